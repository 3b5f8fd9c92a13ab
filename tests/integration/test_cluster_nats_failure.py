#!/usr/bin/python3
"""kill -9 of one nats-server of three (issue #17, docs/cluster.md "Node liveness and the
split brain"): the message stream on three JetStream replicas, three Sluice nodes connected
to all three servers, a publisher sending QoS 1 (each acknowledged before the next) on one
node and a persistent subscriber (MQTT 5, 600 s) on another. Each server in turn is killed,
left dead 8 s and started again, so that one of the kills hits the stream's leader and one
a server the nodes are connected to. Nothing acknowledged is lost and delivery stalls at most
a few seconds (JetStream elects a new leader; a node whose connection was on the dead server
reconnects to another). A client whose node stopped serving meanwhile (its NATS link down for
the 3 s cut-off) goes to another node."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster_harness import Cluster  # noqa: E402
from cluster_load import MovingPublisher, ResumingSubscriber  # noqa: E402
from paho_client import uid  # noqa: E402

# "A few seconds": nats-server's own Raft elections of a new stream and metadata leader took
# 7-8 s after a leader's death in its logs here (its election timeout, not configurable in
# 2.9); the stalls measured 4.6-9.2 s. The limit allows for a loaded machine.
STALL_LIMIT_S = 15.0


@harness.skip_on_mosquitto("the cluster is sluice's")
class NatsServerKilled(unittest.TestCase):
    def setUp(self):
        os.environ["SLUICE_CLUSTER_REPLICAS"] = "3"  # the nodes' streams and buckets: R3
        self.cluster = Cluster(nodes=3, servers=3).start()
        self.n = self.cluster.nodes

    def tearDown(self):
        self.cluster.stop()
        os.environ.pop("SLUICE_CLUSTER_REPLICAS", None)

    def test_each_server_of_three_killed_in_turn_loses_nothing_acknowledged(self):
        t = uid("nk")
        sub = ResumingSubscriber(self.n, 1, f"{t}/#")
        time.sleep(0.5)
        pub = MovingPublisher(self.n, 2, f"{t}/p").start()
        def run_for(seconds):
            until = time.monotonic() + seconds
            while time.monotonic() < until:
                sub.keep_connected()
                time.sleep(0.3)

        try:
            time.sleep(3.0)
            first_kill = time.monotonic()
            for victim in (1, 2, 3):
                self.cluster.nats.kill(victim)
                run_for(8.0)
                self.cluster.nats.start_one(victim)
                run_for(5.0)  # it catches up with the stream before the next kill
        finally:
            pub.stop()
        sub.wait_for(pub.acked, 15.0)
        seen, missing, dups = sub.report(pub.acked)
        gaps = sub.gaps(since=first_kill)
        stall = gaps[0][0] if gaps else 0.0
        print(f"\neach nats-server of 3 killed in turn: {len(pub.acked)} acknowledged, {len(seen)} distinct received, "
              f"{dups} duplicates, longest gaps between deliveries (s, from the first kill; kills at 0, 13, 26 s) "
              f"{[(round(g, 2), round(w, 1)) for g, w in gaps]}, publisher moved to "
              f"{pub.moves}, subscriber on node {sub.node + 1}, missing {len(missing)} {missing[:10]}",
              file=sys.stderr)
        for when, what in pub.events:
            print(f"  publisher at {when - first_kill:+.1f} s: {what}", file=sys.stderr)
        sub.close()
        self.assertGreater(len(pub.acked), 200)
        self.assertEqual(missing, [], "every acknowledged message reaches the persistent subscriber")
        self.assertLess(stall, STALL_LIMIT_S, "delivery stalls at most a few seconds")


if __name__ == "__main__":
    unittest.main()
