#!/usr/bin/python3
"""Several nodes as one MQTT service (issue #17, docs/cluster.md): three Sluice nodes on a
three-server NATS cluster with JetStream, clients on different nodes. A message published
on one node reaches matching subscribers on every node, for each QoS and protocol version,
in order per publisher; a shared subscription's message goes to one member cluster-wide; a
client id is unique cluster-wide (a connection on another node takes it over: 0x8E, its will
goes out; of 100 simultaneous connects one survives); retained messages are seen from every
node; No Local, subscription identifiers, retain-as-published and topic aliases hold as on one node; topics that NATS subjects cannot
carry as they are (levels with '.', '*', '>', spaces, empty levels, '$', 4 KB) arrive
intact."""
import os
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster_harness import Cluster, ClusterCase  # noqa: E402
import mqtt_raw as raw  # noqa: E402
from paho_client import Client, PacketTypes, SubscribeOptions, props, uid  # noqa: E402


@harness.skip_on_mosquitto("the cluster is sluice's")
class CrossNode(ClusterCase):
    def setUp(self):
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        super().tearDown()

    def client(self, node, **kw):
        c = Client(self.n[node], **kw)
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
        def retained_copy(s):
            # A node routes the message log as it reads it: the message may also
            # come as a live one if the SUBSCRIBE beat the log to that node.
            deadline = time.time() + 5
            while True:
                m = s.get(max(0.01, deadline - time.time()))
                if m.retain:
                    return m

        for node in (0, 1, 2):
            s = self.client(node)
            s.sub(f"{t}/+", qos=1)
            m = retained_copy(s)
            self.assertEqual(m.payload, b"kept", f"node {node + 1}")
        # Read after the PUBACK: a SUBSCRIBE on another node at once still finds
        # the message (that node's mirror of the bucket catches up first).
        pubs = [self.client(n) for n in range(3)]
        subs = [self.client(n) for n in range(3)]
        for i in range(12):
            src, dst = i % 3, (i + 1 + i // 3) % 3
            if src == dst:
                dst = (dst + 1) % 3
            topic = f"{t}/now/{i}"  # not under the {t}/+ of the end
            pubs[src].pub(topic, f"v{i}".encode(), qos=1, retain=True)
            subs[dst].sub(topic, qos=1)
            m = retained_copy(subs[dst])
            self.assertEqual((m.topic, m.payload), (topic, f"v{i}".encode()),
                             f"published on node {src + 1}, subscribed on node {dst + 1}")
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
        got = [me.get(5)] + me.drain(0.5)  # (a loaded machine: the log may take a while)
        self.assertEqual([m.payload for m in got], [b"theirs"], "No Local drops only the client's own")
        self.assertTrue(got[0].retain, "retain as published")
        self.assertEqual(got[0].properties.SubscriptionIdentifier, [7])
        other.pub(f"{t}/theirs", b"", qos=1, retain=True)

    def test_topic_aliases_are_the_publishers_connections_own(self):
        """MQTT 5 topic aliases (3.3.2.3.4) belong to one connection: a message published on
        node 1 with an alias reaches a subscriber on node 2 under its full topic, the alias's
        first use and a later use with an empty topic alike."""
        t = uid("al")
        sub = self.client(1)
        sub.sub(f"{t}/#", qos=1)
        time.sleep(0.3)
        pub = raw.connected(self.n[0].port("tcp"), uid("alp"))
        pub.send(raw.publish(f"{t}/a", b"one", qos=1, pid=1, properties=raw.p_u16(raw.TOPIC_ALIAS, 1)))
        self.assertEqual(pub.read(3.0).name, "PUBACK")
        pub.send(raw.publish("", b"two", qos=1, pid=2, properties=raw.p_u16(raw.TOPIC_ALIAS, 1)))
        self.assertEqual(pub.read(3.0).name, "PUBACK")
        got = [sub.get(5), sub.get(5)]
        self.assertEqual([(m.topic, m.payload) for m in got], [(f"{t}/a", b"one"), (f"{t}/a", b"two")])
        pub.close()

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


    def test_client_id_unique_cluster_wide(self):
        cid = uid("dup")
        first = raw.connected(self.n[0].port("tcp"), cid)
        with_will = raw.connected(self.n[1].port("tcp"), cid + "-watch")
        with_will.send(raw.subscribe(1, [(f"{cid}/will", 1)]))
        with_will.expect(raw.SUBACK)
        first.close()
        # The same client id with a will on node 1, then a connection on node 2 takes it.
        first = raw.RawConn(self.n[0].port("tcp"))
        first.send(raw.connect(cid, will={"topic": f"{cid}/will", "payload": b"gone", "qos": 1}))
        self.assertEqual(first.read().reason, 0)
        time.sleep(0.2)
        t0 = time.monotonic()
        second = raw.connected(self.n[1].port("tcp"), cid)
        packets = first.read_until_close(3.0)
        took = time.monotonic() - t0
        self.assertEqual([(p.name, p.reason) for p in packets], [("DISCONNECT", 0x8E)],
                         "the connection on node 1 is told Session taken over")
        self.assertLess(took, 2.0)
        # The old connection's will goes out (it did not disconnect cleanly), once.
        got = with_will.read(3.0)
        self.assertEqual(got.publish_fields()[:2], (f"{cid}/will", b"gone"))
        with self.assertRaises(TimeoutError):
            with_will.read(0.5)
        # The new owner stays.
        second.send(raw.packet(0xC0, b""))  # PINGREQ
        self.assertEqual(second.read(2.0).name, "PINGRESP")
        for c in (second, with_will):
            c.close()

    def test_hundred_simultaneous_connects_one_survivor(self):
        cid = uid("storm")
        conns, errors = [], []
        lock = threading.Lock()
        gate = threading.Event()

        def one(i):
            try:
                c = raw.RawConn(self.n[i % 3].port("tcp"))
                gate.wait(5)
                c.send(raw.connect(cid, keepalive=60))
                with lock:
                    conns.append(c)
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(e)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(100)]
        for t in threads:
            t.start()
        gate.set()
        for t in threads:
            t.join(10)
        self.assertEqual(errors, [])
        time.sleep(2.0)
        alive, unanswered = [], 0
        for c in conns:
            seen = []
            try:
                while True:
                    seen.append(c.read(0.05))
            except raw.Closed:
                continue
            except TimeoutError:
                pass
            if not any(p.name == "CONNACK" for p in seen):
                unanswered += 1
                continue
            if c.try_send(raw.packet(0xC0, b"")):  # PINGREQ: is it still open?
                try:
                    if c.read(1.0).name == "PINGRESP":
                        alive.append(c)
                except (raw.Closed, TimeoutError):
                    pass
        self.assertEqual(unanswered, 0, "every CONNECT is answered")
        self.assertEqual(len(alive), 1, "exactly one of 100 connections with one client id survives: "
                         f"{[c.sock.getpeername()[1] for c in alive]} of nodes {[n.port('tcp') for n in self.n]}\n"
                         + "".join(line + "\n" for n in self.n for line in n.metrics_text().splitlines()
                                   if line.startswith("sluice_cluster_c") or line.startswith("sluice_cluster_t")))
        for c in conns:
            c.close()


    def test_shared_subscription_one_member_cluster_wide(self):
        t = uid("s")
        members = [self.client(0), self.client(0), self.client(1), self.client(2)]
        for m in members:
            m.sub(f"$share/g/{t}/#", qos=1)
        plain = self.client(2)
        plain.sub(f"{t}/#", qos=1)
        time.sleep(0.5)  # every node hears which nodes have members
        pub = self.client(1)
        for qos in (0, 1):
            sent = [f"{qos}:{i}" for i in range(300)]
            for i, body in enumerate(sent):
                pub.pub(f"{t}/k{i % 7}", body.encode(), qos=qos)
            got = [[x.payload.decode() for x in m.drain(1.0)] for m in members]
            everything = sorted(sum(got, []))
            self.assertEqual(everything, sorted(sent), f"QoS {qos}: each message to exactly one member")
            per_node = [len(got[0]) + len(got[1]), len(got[2]), len(got[3])]
            self.assertTrue(all(n > 30 for n in per_node), f"QoS {qos}: spread over the nodes: {per_node}")
            self.assertEqual(sorted(x.payload.decode() for x in plain.drain(0.5)), sorted(sent),
                             "a plain subscription still gets every message")
        # A member's node leaving the group: the others get everything.
        members[3].close()
        self.clients.remove(members[3])
        time.sleep(0.5)
        sent = [f"after:{i}" for i in range(100)]
        for body in sent:
            pub.pub(f"{t}/x", body.encode(), qos=1)
        got = sorted(sum([[x.payload.decode() for x in m.drain(1.0)] for m in members[:3]], []))
        self.assertEqual(got, sorted(sent))



@harness.skip_on_mosquitto("the cluster is sluice's")
class CutOff(unittest.TestCase):
    """A node that loses NATS stops serving instead of running as a second brain, and
    serves again, without a restart, when NATS is back."""

    def test_nodes_stop_serving_without_nats_and_come_back(self):
        cluster = Cluster(nodes=2, servers=1).start()
        try:
            n = cluster.nodes
            live = raw.connected(n[0].port("tcp"), uid("live"))
            cluster.nats.kill(1)
            t0 = time.monotonic()
            packets = live.read_until_close(10.0)
            self.assertLess(time.monotonic() - t0, 6.0, "closed within the cut-off (3 s) and a tick")
            self.assertEqual([(p.name, p.reason) for p in packets], [("DISCONNECT", 0x88)])
            time.sleep(1.0)  # the other node's watchdog ticks on its own (every 250 ms)
            c = raw.RawConn(n[1].port("tcp"))
            c.send(raw.connect(uid("late")))
            self.assertEqual(c.read(3.0).reason, 0x88, "CONNECT refused with Server unavailable")
            c.close()
            for node in n:
                self.assertTrue(node.alive())
            cluster.nats.start_one(1)
            deadline = time.monotonic() + 15
            while True:
                c = raw.RawConn(n[1].port("tcp"))
                c.send(raw.connect(uid("back")))
                ok = c.read(3.0).reason == 0
                c.close()
                if ok:
                    break
                self.assertLess(time.monotonic(), deadline, "the node serves again when NATS is back")
                time.sleep(0.5)
            # Across nodes again, QoS 1 through the log.
            t = uid("again")
            sub = Client(n[1])
            sub.sub(f"{t}/#", qos=1)
            time.sleep(0.5)
            pub = Client(n[0])
            pub.pub(f"{t}/x", b"hello again", qos=1)
            self.assertEqual([m.payload for m in sub.drain(2.0)], [b"hello again"])
            sub.close()
            pub.close()
        finally:
            cluster.stop()



@harness.skip_on_mosquitto("the cluster is sluice's")
class NodeDeath(unittest.TestCase):
    """kill -9 of a node: the wills of its open connections go out once, from a survivor,
    after their delay; a client that reconnects elsewhere within the delay cancels its will."""

    def test_wills_of_a_dead_node_go_out_once_from_a_survivor(self):
        cluster = Cluster(nodes=3, servers=1).start()
        try:
            n = cluster.nodes
            t = uid("w")
            watch = Client(n[1])
            watch.sub(f"{t}/#", qos=1)
            time.sleep(0.3)
            now = raw.RawConn(n[0].port("tcp"))
            now.send(raw.connect(uid("now"), will={"topic": f"{t}/now", "payload": b"gone", "qos": 1}))
            self.assertEqual(now.read(3.0).reason, 0)
            later = raw.RawConn(n[0].port("tcp"))
            later.send(raw.connect(uid("later"), properties=raw.p_u32(raw.SESSION_EXPIRY, 60),
                                   will={"topic": f"{t}/later", "payload": b"gone late", "qos": 1,
                                         "properties": raw.p_u32(24, 3)}))  # Will Delay 3 s
            self.assertEqual(later.read(3.0).reason, 0)
            back_id = uid("back")
            back = raw.RawConn(n[0].port("tcp"))
            back.send(raw.connect(back_id, properties=raw.p_u32(raw.SESSION_EXPIRY, 60),
                                  will={"topic": f"{t}/back", "payload": b"never", "qos": 1,
                                        "properties": raw.p_u32(24, 5)}))  # Will Delay 5 s
            self.assertEqual(back.read(3.0).reason, 0)
            time.sleep(0.5)  # the wills reach their bucket
            n[0].stop(signal.SIGKILL)
            t0 = time.monotonic()
            # The client with the 5 s delay comes back on another node in time: no will.
            time.sleep(4.5)
            raw.connected(n[2].port("tcp"), back_id, clean=False,
                          properties=raw.p_u32(raw.SESSION_EXPIRY, 60)).close()
            got = {}
            deadline = time.monotonic() + 12
            while time.monotonic() < deadline:
                for m in watch.drain(0.5):
                    got.setdefault(m.topic, []).append((m.payload, time.monotonic() - t0))
            self.assertEqual([p for p, _ in got.get(f"{t}/now", [])], [b"gone"], f"once: {got}")
            self.assertEqual([p for p, _ in got.get(f"{t}/later", [])], [b"gone late"], f"once: {got}")
            self.assertGreater(got[f"{t}/later"][0][1], got[f"{t}/now"][0][1] + 2.0, "after its delay")
            self.assertLess(got[f"{t}/now"][0][1], 8.0, "within the lease (4 s) and a sweep")
            self.assertNotIn(f"{t}/back", got, "a client back within the delay cancels its will")
            watch.close()
        finally:
            cluster.stop()



@harness.skip_on_mosquitto("the cluster is sluice's")
class StartupErrors(unittest.TestCase):
    """A node that cannot join says why and exits non-zero, instead of running alone."""

    def serve(self, *args):
        import subprocess
        import tempfile
        with tempfile.TemporaryDirectory(prefix="sluice-cl-err-") as d:
            r = subprocess.run([harness.sluice_bin(), "serve", "--allow-anonymous", "--data-dir", d,
                                "--host", "127.0.0.1", "--mqtt-port", "0", "--http-port=-1", *args],
                               capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def test_unreachable_nats_missing_name_and_bad_url(self):
        port = harness.free_ports(1)[0]
        rc, out = self.serve("--nats", f"nats://127.0.0.1:{port}", "--node-name", "n1")
        self.assertNotEqual(rc, 0)
        self.assertIn(f"cannot reach NATS at nats://127.0.0.1:{port}", out)
        rc, out = self.serve("--nats", f"nats://127.0.0.1:{port}")
        self.assertNotEqual(rc, 0)
        self.assertIn("--node-name is required", out)
        rc, out = self.serve("--nats", "127.0.0.1:4222", "--node-name", "n1")
        self.assertNotEqual(rc, 0)
        self.assertIn("is not a nats:// or tls:// URL", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
