#!/usr/bin/python3
"""An offline persistent member of a shared subscription whose node dies (issue #17,
docs/cluster.md "Shared subscriptions", "A dead holder's share").

On one node Sluice queues a group's message for an offline persistent member when no member
is connected (MQTT 5 4.8.2, as EMQX and HiveMQ do). In a cluster the node holding the offline
session decides its share; when that node is killed with kill -9, the share it decided in its
last 250 ms (not written yet) and every share decided for it while no node held the session
must still reach the session when it resumes on a survivor: no acknowledged message lost
(duplicates allowed, counted and printed).

`OnlyMember`: the group's only member, offline, held on node 1; QoS 1 messages published on
node 3 before the kill (some within its last 250 ms), right after it (node 1 not yet known
dead) and after its lease ran out; the member resumes on node 2 and gets every one.
`BesideALiveMember`: the same with a live member of the group on node 3 (MQTT 3.1.1 clean
session 0 for the offline one): every message reaches at least one of the two; and a live
member that joins on node 3 only after node 1 died.
"""
import os
import signal
import sys
import time
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster_harness import Cluster  # noqa: E402
from paho_client import Client, uid  # noqa: E402


def persistent(node, cid, version=5, **kw):
    if version == 5:
        return Client(node, version=5, client_id=cid, clean=False, session_expiry=300, **kw)
    return Client(node, version=4, client_id=cid, clean=False, **kw)


class DeathCase(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster(nodes=3, servers=1).start()
        self.n = self.cluster.nodes

    def tearDown(self):
        self.cluster.stop()

    def publish_around_a_kill(self, pub, t):
        """Publishes QoS 1 on `t` (each acknowledged before the next): 10 well before node 1
        is killed, 10 in the burst just before (its last 250 ms), 20 right after (node 1 not
        known dead yet), 20 after its lease ran out (no node holds the session). Returns the
        payloads, in order."""
        sent = []

        def burst(tag, n):
            for i in range(n):
                body = f"{tag}-{i}"
                pub.pub(t, body.encode(), qos=1)
                sent.append(body)

        burst("early", 10)
        time.sleep(1.0)  # written (250 ms)
        burst("late", 10)  # some within the last 250 ms before the kill
        self.n[0].stop(signal.SIGKILL)
        burst("dead", 20)
        time.sleep(6.0)  # node 1's lease ran out (4 s) and a survivor released its sessions
        burst("orphan", 20)
        return sent

    def report(self, what, sent, got, extra=""):
        counts = Counter(got)
        dups = sum(c - 1 for c in counts.values() if c > 1)
        missing = [b for b in sent if b not in counts]
        print(f"\n{what}: published {len(sent)} (acknowledged), received {len(got)}, distinct "
              f"{len(counts)}, duplicates {dups}, missing {len(missing)} {missing[:12]}{extra}",
              file=sys.stderr)
        return missing

    def resume_beside(self, what, cid, sent, to_other, other, **kw):
        """Resumes the offline member on node 2; every acknowledged message must have reached
        it or the other member, none twice to it. Returns the client and what it got."""
        back = persistent(self.n[1], cid, timeout=10, **kw)
        self.assertTrue(back.connack["session_present"])
        to_back = [m.payload.decode() for m in back.drain(3.0)]
        both = set(to_other) & set(to_back)
        missing = self.report(what, sent, to_other + to_back,
                              f"; {len(to_other)} to {other}, {len(to_back)} to the resumed one, {len(both)} to both")
        self.assertEqual(missing, [], "each acknowledged message reaches at least one member")
        self.assertEqual(len(to_back), len(set(to_back)), "none twice to the resumed session")
        return back, to_back


@harness.skip_on_mosquitto("the cluster is sluice's")
class OnlyMember(DeathCase):
    def test_offline_only_member_gets_every_acknowledged_message_after_kill_9_of_its_node(self):
        t, g, cid = uid("sd"), uid("g"), uid("sdc")
        sub = persistent(self.n[0], cid)
        sub.sub(f"$share/{g}/{t}", qos=1)
        sub.close()
        time.sleep(0.5)  # the group's member node is known everywhere (SLUICE_SHARED)
        pub = Client(self.n[2])
        sent = self.publish_around_a_kill(pub, t)
        back = persistent(self.n[1], cid, timeout=10)
        self.assertTrue(back.connack["session_present"])
        got = [m.payload.decode() for m in back.drain(3.0)]
        missing = self.report("only member, its node killed", sent, got)
        self.assertEqual(missing, [], "every acknowledged message reaches the only member")
        # Held on node 2 now: a live message once.
        pub.pub(t, b"live", qos=1)
        self.assertEqual([m.payload for m in back.drain(1.0)], [b"live"])
        back.close()
        pub.close()


@harness.skip_on_mosquitto("the cluster is sluice's")
class BesideALiveMember(DeathCase):
    def test_each_message_reaches_a_member_when_an_offline_members_node_is_killed(self):
        t, g, cid = uid("sdl"), uid("g"), uid("sdlc")
        live = Client(self.n[2])
        live.sub(f"$share/{g}/{t}", qos=1)
        sub = persistent(self.n[0], cid, version=4)
        sub.sub(f"$share/{g}/{t}", qos=1)
        sub.close()
        time.sleep(0.5)
        pub = Client(self.n[2])
        sent = self.publish_around_a_kill(pub, t)
        to_live = [m.payload.decode() for m in live.drain(0.5)]
        back, _ = self.resume_beside("beside a live member, the offline member's node killed", cid, sent,
                                     to_live, "the live member", version=4)
        back.close()
        live.close()
        pub.close()

    def test_a_member_that_joins_while_the_offline_member_is_parked_takes_nothing_from_it(self):
        """A member joins on node 3 after node 1 died: from then on it gets its share, and the
        offline member's recomputed share leaves it out (it may have won nothing before it
        joined), so nothing is lost; what both got is counted."""
        t, g, cid = uid("sdj"), uid("g"), uid("sdjc")
        sub = persistent(self.n[0], cid)
        sub.sub(f"$share/{g}/{t}", qos=1)
        sub.close()
        time.sleep(0.5)
        pub = Client(self.n[2])
        sent = self.publish_around_a_kill(pub, t)
        late = Client(self.n[2])
        late.sub(f"$share/{g}/{t}", qos=1)
        time.sleep(0.5)
        for i in range(30):
            body = f"joined-{i}"
            pub.pub(t, body.encode(), qos=1)
            sent.append(body)
        to_late = [m.payload.decode() for m in late.drain(0.5)]
        back, _ = self.resume_beside("a member joined while the offline member was parked", cid, sent,
                                     to_late, "the new member")
        self.assertGreater(len(to_late), 0, "the new member gets its share")
        back.close()
        late.close()
        pub.close()


if __name__ == "__main__":
    unittest.main()
