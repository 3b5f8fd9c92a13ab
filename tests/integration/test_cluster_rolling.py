#!/usr/bin/python3
"""A rolling restart (issue #17, docs/cluster.md "Restarts and rolling upgrades"): each node
of three in turn stopped as an operator stops it (SIGTERM) and started again under its name,
while a publisher sends QoS 1 (each acknowledged before the next) and a persistent subscriber
(MQTT 5, session expiry 600 s) follows. Clients of the stopped node connect to another node:
the publisher sends again what was not acknowledged, the subscriber resumes its session there.
Every acknowledged message reaches the subscriber; duplicates are counted and printed."""
import os
import sys
import threading
import time
import unittest
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster_harness import Cluster  # noqa: E402
from paho_client import Client, uid  # noqa: E402

RATE_S = 0.02


def forget(c):
    """A client whose node went away: no reconnect attempts, no waiting on it."""
    c.c._thread_terminate = True
    c.c.loop_stop()


@harness.skip_on_mosquitto("the cluster is sluice's")
class RollingRestart(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster(nodes=3, servers=1).start()
        self.n = self.cluster.nodes

    def tearDown(self):
        self.cluster.stop()

    def test_each_node_restarted_in_turn_loses_nothing_acknowledged(self):
        t = uid("roll")
        sid = uid("rsub")
        where = {"sub": 0, "pub": 1}
        got, got_mu = [], threading.Lock()

        def subscriber(node, clean):
            c = Client(self.n[node], version=5, client_id=sid, clean=clean, session_expiry=600)
            c.c.on_message = lambda _c, _u, m: (got_mu.acquire(), got.append(m.payload.decode()),
                                                got_mu.release())
            if clean:
                c.sub(f"{t}/#", qos=1)
            return c

        sub = subscriber(where["sub"], True)
        time.sleep(0.5)
        acked, stop = [], threading.Event()
        moves = []

        def publish():
            node = where["pub"]
            pub = Client(self.n[node], timeout=3)
            i = 0
            while not stop.is_set():
                body = f"m-{i}"
                try:
                    pub.pub(f"{t}/p", body.encode(), qos=1)
                except Exception:  # noqa: BLE001 - its node is going away: another one
                    forget(pub)
                    while True:
                        node = (node + 1) % 3
                        try:
                            pub = Client(self.n[node], timeout=3)
                            break
                        except Exception:  # noqa: BLE001
                            time.sleep(0.2)
                    moves.append(node)
                    continue  # the same message again: at least once
                acked.append(body)
                i += 1
                time.sleep(RATE_S)
            pub.close()

        th = threading.Thread(target=publish)
        th.start()
        try:
            for victim in range(3):
                time.sleep(2.0)
                self.n[victim].restart()
                if where["sub"] == victim:  # its connection was closed: resume elsewhere
                    forget(sub)
                    where["sub"] = (victim + 1) % 3
                    sub = subscriber(where["sub"], False)
            time.sleep(2.0)
        finally:
            stop.set()
            th.join(30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with got_mu:
                if set(acked) <= set(got):
                    break
            time.sleep(0.2)
        with got_mu:
            seen = Counter(got)
        missing = [b for b in acked if b not in seen]
        dups = sum(n - 1 for n in seen.values() if n > 1)
        print(f"\nrolling restart: {len(acked)} acknowledged, {len(seen)} distinct received, "
              f"{dups} duplicates, publisher moved to nodes {moves}, missing {len(missing)} {missing[:10]}",
              file=sys.stderr)
        sub.close()
        self.assertGreater(len(acked), 200)
        self.assertEqual(missing, [], "every acknowledged message reaches the persistent subscriber")


if __name__ == "__main__":
    unittest.main()
