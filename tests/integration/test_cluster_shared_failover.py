#!/usr/bin/python3
"""A clean-session member of a shared subscription whose node dies (issue #17,
docs/cluster.md "Shared subscriptions", "A dead member node's share").

In a cluster each QoS 1/2 message of a group goes to the member node that wins its route key
(rendezvous hashing among the group's member nodes). When a node whose members were all clean
sessions is killed with kill -9, the messages it wins from its death until the others take it
for dead (its lease, 4-5 s), and those it had not delivered yet, must still reach a live member
of the group on another node: at least once for the group, duplicates allowed (counted and
printed), nothing acknowledged lost.

`CleanMemberNodeKilled`: a clean-start member (MQTT 5, expiry 0) on node 1 and a live member
on node 2; a publisher on node 3 sends QoS 1 at a steady rate (each acknowledged before the
next) across a kill -9 of node 1. Every acknowledged message the dead member did not receive
must reach the live one. The same with live members on nodes 2 and 3: the dead node's share
is split between the two survivors. And with node 1 started again at once under its name
(before its lease ran out): the new process waits the old one's lease out, so the others
re-decide its share as for a death (docs/cluster.md "A restart under the same name").
"""
import os
import signal
import sys
import threading
import time
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster_harness import Cluster  # noqa: E402
from cluster_load import forget  # noqa: E402
from paho_client import Client, uid  # noqa: E402

RATE_S = 0.04       # one message every 40 ms (25/s)
BEFORE_S = 2.0      # published before the kill
AFTER_S = 8.0       # and after it: past node 1's lease (4 s) and the survivors' views settling


@harness.skip_on_mosquitto("the cluster is sluice's")
class CleanMemberNodeKilled(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster(nodes=3, servers=1).start()
        self.n = self.cluster.nodes

    def tearDown(self):
        self.cluster.stop()

    def publish_across_a_kill(self, t, pub, restart=False):
        """QoS 1 on `t` every RATE_S (each acknowledged before the next), BEFORE_S before a
        kill -9 of node 1 (`restart`: started again at once, under the same name) and AFTER_S
        after it. Returns [(payload, published after the kill)]."""
        acked = []
        killed = threading.Event()
        stop = threading.Event()

        def publish():
            i = 0
            while not stop.is_set():
                body = f"m-{i}"
                after = killed.is_set()
                pub.pub(t, body.encode(), qos=1)  # returns once acknowledged
                acked.append((body, after))
                i += 1
                time.sleep(RATE_S)

        th = threading.Thread(target=publish)
        th.start()
        try:
            time.sleep(BEFORE_S)
            if restart:
                self.n[0].crash_and_restart()
            else:
                self.n[0].stop(signal.SIGKILL)
            killed.set()
            time.sleep(AFTER_S)
        finally:
            stop.set()
            th.join(15)
        return acked

    def check(self, what, acked, to_doomed, live):
        """Every acknowledged message the dead member did not get reaches a live one."""
        sent = [b for b, _ in acked]
        after_kill = [b for b, a in acked if a]
        got = {name: Counter(msgs) for name, msgs in live.items()}
        reached = set(to_doomed).union(*[set(c) for c in got.values()])
        missing = [b for b in sent if b not in reached]
        twice = {name: sum(n - 1 for n in c.values() if n > 1) for name, c in got.items()}
        live_all = Counter()
        for c in got.values():
            live_all.update(set(c))
        across = sum(1 for n in live_all.values() if n > 1)
        both = len(set(to_doomed) & set(live_all))
        print(f"\n{what}: published {len(sent)} (acknowledged; {len(after_kill)} after the kill), to the dead "
              f"member {len(to_doomed)}, " + ", ".join(f"to {n} {sum(c.values())} (twice to it: {twice[n]})"
                                                       for n, c in got.items()) +
              f", to two live members {across}, to the dead one and a live one {both}, missing "
              f"{len(missing)} {missing[:12]}", file=sys.stderr)
        self.assertGreater(len(after_kill), 100, "the publisher went on across the kill")
        self.assertEqual(missing, [], "every acknowledged message reaches a member the dead one did not")

    def member(self, node, tag, g, t):
        c = Client(node, version=5, client_id=uid(tag), clean=True, session_expiry=0)
        c.sub(f"$share/{g}/{t}", qos=1)
        return c

    def forget(self, c):
        forget(c)  # a client of the killed node: no reconnect attempts

    def test_every_acknowledged_message_reaches_a_live_member_across_kill_9_of_a_clean_members_node(self):
        t, g = uid("sf"), uid("g")
        doomed = self.member(self.n[0], "sfd", g, t)
        live = self.member(self.n[1], "sfl", g, t)
        time.sleep(0.5)  # both member nodes are known everywhere (SLUICE_SHARED)
        pub = Client(self.n[2], timeout=10)
        acked = self.publish_across_a_kill(t, pub)
        to_live = [m.payload.decode() for m in live.drain(3.0)]
        to_doomed = [m.payload.decode() for m in doomed.drain(0.1)]
        self.forget(doomed)
        self.check("clean member's node killed, a live member on node 2", acked, to_doomed,
                   {"node 2's member": to_live})
        pub.close()
        live.close()

    def test_two_surviving_member_nodes_share_the_dead_nodes_messages(self):
        """Members on all three nodes: the dead node's share goes to the two survivors, each
        message to one of them (each re-decides up to the moment it stopped counting node 1)."""
        t, g = uid("sf2"), uid("g")
        doomed = self.member(self.n[0], "sf2d", g, t)
        on2 = self.member(self.n[1], "sf2b", g, t)
        on3 = self.member(self.n[2], "sf2c", g, t)
        time.sleep(0.5)
        pub = Client(self.n[2], timeout=10)
        acked = self.publish_across_a_kill(t, pub)
        to2 = [m.payload.decode() for m in on2.drain(3.0)]
        to3 = [m.payload.decode() for m in on3.drain(0.5)]
        to_doomed = [m.payload.decode() for m in doomed.drain(0.1)]
        self.forget(doomed)
        self.check("clean member's node killed, live members on nodes 2 and 3", acked, to_doomed,
                   {"node 2's member": to2, "node 3's member": to3})
        self.assertGreater(len(to2), 0)
        self.assertGreater(len(to3), 0)
        pub.close()
        on2.close()
        on3.close()

    def test_a_node_restarted_at_once_under_its_name_loses_nothing_of_its_share(self):
        """kill -9 and an immediate restart under the same name, well within its lease (a
        crash under systemd, a rolling upgrade): the others never take it for dead, yet its
        members are gone with the old process."""
        t, g = uid("sfr"), uid("g")
        doomed = self.member(self.n[0], "sfrd", g, t)
        live = self.member(self.n[1], "sfrl", g, t)
        time.sleep(0.5)
        pub = Client(self.n[2], timeout=10)
        acked = self.publish_across_a_kill(t, pub, restart=True)
        to_live = [m.payload.decode() for m in live.drain(3.0)]
        to_doomed = [m.payload.decode() for m in doomed.drain(0.1)]
        self.forget(doomed)
        self.check("clean member's node killed and restarted at once, a live member on node 2", acked,
                   to_doomed, {"node 2's member": to_live})
        pub.close()
        live.close()


if __name__ == "__main__":
    unittest.main()
