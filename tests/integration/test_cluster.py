#!/usr/bin/python3
"""Several nodes as one MQTT service (issue #17, docs/cluster.md): three Sluice nodes on a
three-server NATS cluster with JetStream, clients on different nodes. A message published
on one node reaches matching subscribers on every node, for each QoS and protocol version,
in order per publisher; retained messages are seen from every node; No Local, subscription
identifiers and retain-as-published hold as on one node; topics that NATS subjects cannot
carry as they are (levels with '.', '*', '>', spaces, empty levels, '$', 4 KB) arrive
intact."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster_harness import Cluster  # noqa: E402
from paho_client import Client, PacketTypes, SubscribeOptions, props, uid  # noqa: E402


@harness.skip_on_mosquitto("the cluster is sluice's")
class CrossNode(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster(nodes=3, servers=3).start()
        cls.n = cls.cluster.nodes

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def setUp(self):
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        for i, node in enumerate(self.n):
            self.assertTrue(node.alive(), f"node {i + 1} died:\n{node.log_tail()}")

    def client(self, node, **kw):
        c = Client(self.n[node], **kw).connect()
        self.clients.append(c)
        return c

    def test_each_qos_and_version_in_order_per_publisher(self):
        for version in (4, 5):
            for qos in (0, 1, 2):
                t = uid("x")
                sub = self.client(1, version=version)
                sub.sub(f"{t}/#", qos=2)
                time.sleep(0.3)  # the node's interest reaches the other nodes' NATS servers
                pubs = [self.client(0, version=version), self.client(2, version=version)]
                for i in range(20):
                    for k, p in enumerate(pubs):
                        p.pub(f"{t}/p{k}", f"{k}:{i}".encode(), qos=qos)
                got = [m.payload.decode() for m in sub.drain(1.0)]
                for k in range(2):
                    mine = [g for g in got if g.startswith(f"{k}:")]
                    self.assertEqual(mine, [f"{k}:{i}" for i in range(20)],
                                     f"v{version} QoS {qos}, publisher on node {k * 2 + 1}: {got}")

    def test_retained_seen_from_every_node(self):
        t = uid("r")
        self.client(0).pub(f"{t}/state", b"kept", qos=1, retain=True)
        for node in (0, 1, 2):
            s = self.client(node)
            s.sub(f"{t}/+", qos=1)
            m = s.get(5)
            self.assertEqual((m.payload, bool(m.retain)), (b"kept", True), f"node {node + 1}")
        self.client(2).pub(f"{t}/state", b"", qos=1, retain=True)  # cleared from another node
        time.sleep(0.5)
        s = self.client(1)
        s.sub(f"{t}/+", qos=1)
        self.assertEqual(s.drain(0.7), [], "a cleared retained message is gone everywhere")

    def test_no_local_subscription_ids_and_retain_as_published(self):
        t = uid("o")
        me = self.client(0)
        me.sub(f"{t}/#", options=SubscribeOptions(qos=1, noLocal=True, retainAsPublished=True),
               properties=props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=7))
        time.sleep(0.3)
        for qos in (0, 1):
            me.pub(f"{t}/mine", b"own", qos=qos)
        other = self.client(2)
        other.pub(f"{t}/theirs", b"theirs", qos=1, retain=True)
        got = me.drain(1.0)
        self.assertEqual([m.payload for m in got], [b"theirs"], "No Local drops only the client's own")
        self.assertTrue(got[0].retain, "retain as published")
        self.assertEqual(got[0].properties.SubscriptionIdentifier, [7])
        other.pub(f"{t}/theirs", b"", qos=1, retain=True)

    def test_topics_nats_cannot_carry_as_they_are(self):
        t = uid("e")
        topics = [f"{t}/a.b/c", f"{t}/*/x", f"{t}/>", f"{t}/sp ace", f"{t}//empty", f"{t}/é",
                  f"{t}/_5F", f"{t}/" + "L" * 4000]
        wild = self.client(1)
        wild.sub(f"{t}/#", qos=1)
        plus = self.client(2)
        plus.sub(f"{t}/+", qos=1)
        exact = self.client(2)
        for tp in topics:
            exact.sub(tp, qos=1)
        time.sleep(0.3)
        pub = self.client(0)
        for tp in topics:
            pub.pub(tp, tp[-8:].encode(), qos=1)
        self.assertEqual(sorted(m.topic for m in wild.drain(1.0)), sorted(topics))
        one_level = [tp for tp in topics if tp.count("/") == 1]
        self.assertEqual(sorted(m.topic for m in plus.drain(0.5)), sorted(one_level))
        self.assertEqual(sorted(m.topic for m in exact.drain(0.5)), sorted(topics))

    def test_dollar_topics_and_overlapping_filters(self):
        t = uid("d")
        dollar = self.client(1)
        dollar.sub(f"${t}/#", qos=1)
        every = self.client(1)
        every.sub("#", qos=1)
        overlap = self.client(2)
        overlap.sub(f"{t}/a/#", qos=1)
        overlap.sub(f"{t}/+/b", qos=1)
        time.sleep(0.3)
        pub = self.client(0)
        pub.pub(f"${t}/x", b"dollar", qos=0)
        pub.pub(f"{t}/a/b", b"both", qos=0)
        self.assertEqual([m.payload for m in dollar.drain(0.7)], [b"dollar"])
        self.assertNotIn(b"dollar", [m.payload for m in every.drain(0.5)], "'#' does not match '$' topics")
        # Two subscriptions of one client match: delivered per subscription, as on one node,
        # and the node does not route the copy NATS sends per matching subject twice.
        self.assertEqual([m.payload for m in overlap.drain(0.7)], [b"both", b"both"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
