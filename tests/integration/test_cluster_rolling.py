#!/usr/bin/python3
"""A rolling restart (issue #17, docs/cluster.md "Restarts and rolling upgrades"): each node
of three in turn stopped as an operator stops it (SIGTERM) and started again under its name,
while a publisher sends QoS 1 (each acknowledged before the next) and a persistent subscriber
(MQTT 5, session expiry 600 s) follows. Clients of the stopped node connect to another node:
the publisher sends again what was not acknowledged, the subscriber resumes its session there.
Every acknowledged message reaches the subscriber; duplicates are counted and printed."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster_harness import Cluster  # noqa: E402
from cluster_load import MovingPublisher, ResumingSubscriber  # noqa: E402
from paho_client import uid  # noqa: E402


@harness.skip_on_mosquitto("the cluster is sluice's")
class RollingRestart(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster(nodes=3, servers=1).start()
        self.n = self.cluster.nodes

    def tearDown(self):
        self.cluster.stop()

    def test_each_node_restarted_in_turn_loses_nothing_acknowledged(self):
        t = uid("roll")
        sub = ResumingSubscriber(self.n, 0, f"{t}/#")
        time.sleep(0.5)
        pub = MovingPublisher(self.n, 1, f"{t}/p").start()
        try:
            for victim in range(3):
                time.sleep(2.0)
                self.n[victim].restart()
                if sub.node == victim:  # its connection was closed: resume elsewhere
                    sub.resume_on((victim + 1) % 3)
            time.sleep(2.0)
        finally:
            pub.stop()
        sub.wait_for(pub.acked)
        seen, missing, dups = sub.report(pub.acked)
        print(f"\nrolling restart: {len(pub.acked)} acknowledged, {len(seen)} distinct received, {dups} "
              f"duplicates, publisher moved to nodes {pub.moves}, missing {len(missing)} {missing[:10]}",
              file=sys.stderr)
        sub.close()
        self.assertGreater(len(pub.acked), 200)
        self.assertEqual(missing, [], "every acknowledged message reaches the persistent subscriber")


if __name__ == "__main__":
    unittest.main()
