#!/usr/bin/python3
"""What a persistent session takes along when it moves to another node (issue #17,
docs/cluster.md "Session directory and takeover"), beyond its subscriptions and position:

- Its share of shared subscriptions. On one node an offline persistent member of
  `$share/g/t` keeps getting its share (queued for it, MQTT 5 4.8.2); in a cluster the node
  holding it gets the share the cluster decides for that node. Those messages reach the
  session when it resumes on any node — all of them when it is the only member; exactly
  the ones not given to another member when there is one (none twice across members).
- QoS 2 exchanges in the middle (MQTT 4.3.3): an incoming QoS 2 id received on the old node
  and not released (the client's resent PUBLISH with DUP is acknowledged, not routed a
  second time), and an outgoing QoS 2 message the client acknowledged with PUBREC (the new
  node sends PUBREL again, not the PUBLISH).
`Handover`: a reconnect elsewhere after a disconnect (the old node alive: its hand-over);
`Death`: the same three after kill -9 of the node that held them (from its last written entry).
"""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster_harness import Cluster, ClusterCase  # noqa: E402
import mqtt_raw as raw  # noqa: E402
from paho_client import Client, uid  # noqa: E402

EXPIRY = raw.p_u32(raw.SESSION_EXPIRY, 300)


def persistent(node, cid, **kw):
    return Client(node, version=5, client_id=cid, clean=False, session_expiry=300, **kw)


def packets(conn, seconds):
    """Every packet `conn` gets in `seconds`."""
    out, deadline = [], time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return out
        try:
            out.append(conn.read(left))
        except TimeoutError:
            return out


@harness.skip_on_mosquitto("the cluster is sluice's")
class Handover(ClusterCase):

    def offline_member(self, node, cid, group, topic):
        sub = persistent(node, cid)
        sub.sub(f"$share/{group}/{topic}", qos=1)
        sub.close()
        time.sleep(0.5)  # the group's member node is known everywhere (SLUICE_SHARED)

    def test_offline_share_alone_in_its_group_comes_back_on_another_node(self):
        t, g, cid = uid("sh"), uid("g"), uid("shc")
        self.offline_member(self.n[0], cid, g, t)
        pub = Client(self.n[2])
        for i in range(20):
            pub.pub(t, f"{i}".encode(), qos=1)
        time.sleep(0.5)
        back = persistent(self.n[1], cid)
        self.assertTrue(back.connack["session_present"])
        got = [m.payload.decode() for m in back.drain(2.0)]
        self.assertEqual(got, [str(i) for i in range(20)], "all of them, in order, once (the only member)")
        # Its node is node 2 now: live messages still reach it, once.
        pub.pub(t, b"live", qos=1)
        self.assertEqual([m.payload for m in back.drain(1.0)], [b"live"])
        back.close()
        # Back on node 1: nothing again.
        again = persistent(self.n[0], cid)
        self.assertEqual([m.payload for m in again.drain(1.0)], [], "nothing delivered twice")
        again.close()
        pub.close()
        Client(self.n[0], client_id=cid, clean=True).close()

    def test_offline_share_beside_a_live_member_gets_exactly_what_was_decided_for_it(self):
        t, g, cid = uid("shm"), uid("g"), uid("shmc")
        other = Client(self.n[1])
        other.sub(f"$share/{g}/{t}", qos=1)
        self.offline_member(self.n[0], cid, g, t)
        pub = Client(self.n[2])
        n = 60
        for i in range(n):
            pub.pub(t, f"{i}".encode(), qos=1)
        time.sleep(1.0)
        to_other = [m.payload.decode() for m in other.drain(1.0)]
        back = persistent(self.n[1], cid)
        self.assertTrue(back.connack["session_present"])
        to_back = [m.payload.decode() for m in back.drain(2.0)]
        print(f"\nshare beside a live member: {len(to_back)} to the resumed session, {len(to_other)} to the "
              f"live member, of {n}", file=sys.stderr)
        self.assertEqual(len(to_back), len(set(to_back)), "none twice to the resumed session")
        self.assertEqual(set(to_back) & set(to_other), set(), "none to two members")
        self.assertEqual(set(to_back) | set(to_other), {str(i) for i in range(n)},
                         "the resumed session has exactly what the live member did not get")
        self.assertGreater(len(to_back), 0, "node 1's share (route key modulo two member nodes)")
        self.assertEqual(to_back, sorted(to_back, key=int), "in order")
        # Both members on node 2 now: each new message to one of them.
        for i in range(n, n + 10):
            pub.pub(t, f"{i}".encode(), qos=1)
        later = [m.payload.decode() for m in back.drain(1.0)] + [m.payload.decode() for m in other.drain(0.5)]
        self.assertEqual(sorted(later, key=int), [str(i) for i in range(n, n + 10)])
        back.close()
        other.close()
        pub.close()
        Client(self.n[1], client_id=cid, clean=True).close()

    def test_incoming_qos2_id_is_not_routed_twice_after_a_move(self):
        t, cid = uid("q2in"), uid("q2inc")
        watch = Client(self.n[2])
        watch.sub(t, qos=2)
        time.sleep(0.3)
        a = raw.connected(self.n[0].port("tcp"), cid, clean=False, properties=EXPIRY)
        a.send(raw.publish(t, b"once", qos=2, pid=7))
        self.assertEqual(a.expect(raw.PUBREC, 5).reason, 0)
        time.sleep(0.5)  # no PUBREL: the id waits in the session (its entry is written)
        a.close()
        time.sleep(1.0)
        b = raw.connected(self.n[1].port("tcp"), cid, clean=False, properties=EXPIRY)
        self.assertEqual(b.connack.body[0] & 1, 1, "session present on node 2")
        b.send(raw.publish(t, b"once", qos=2, pid=7, dup=True))
        self.assertEqual(b.expect(raw.PUBREC, 5).reason, 0)
        b.send(raw.ack(raw.PUBREL, 7))
        self.assertEqual(b.expect(raw.PUBCOMP, 5).reason, 0, "the id was known on node 2")
        got = [m.payload for m in watch.drain(2.0)]
        self.assertEqual(got, [b"once"], "exactly once across the move")
        b.send(raw.disconnect())
        b.close()
        watch.close()
        Client(self.n[1], client_id=cid, clean=True).close()

    def test_outgoing_qos2_pubrecd_gets_pubrel_not_the_message_after_a_move(self):
        t, cid = uid("q2out"), uid("q2outc")
        a = raw.connected(self.n[0].port("tcp"), cid, clean=False, properties=EXPIRY)
        a.send(raw.subscribe(1, [(t, 2)]))
        self.assertEqual(a.expect(raw.SUBACK, 5).body[-1], 2, "QoS 2 granted")
        time.sleep(0.3)
        pub = Client(self.n[2])
        pub.pub(t, b"x", qos=2)
        p = a.expect(raw.PUBLISH, 5)
        topic, payload, qos, pid, _ = p.publish_fields()
        self.assertEqual((payload, qos), (b"x", 2))
        a.send(raw.ack(raw.PUBREC, pid))
        self.assertEqual(a.expect(raw.PUBREL, 5).body[:2], pid.to_bytes(2, "big"))
        time.sleep(0.5)  # no PUBCOMP: the broker waits for it (its entry is written)
        a.close()
        time.sleep(1.0)
        b = raw.connected(self.n[1].port("tcp"), cid, clean=False, properties=EXPIRY)
        self.assertEqual(b.connack.body[0] & 1, 1, "session present on node 2")
        seen = packets(b, 2.0)
        publishes = [q.publish_fields()[1] for q in seen if q.type == raw.PUBLISH]
        pubrels = [int.from_bytes(q.body[:2], "big") for q in seen if q.type == raw.PUBREL]
        self.assertEqual(publishes, [], "the PUBREC'd message is not sent again")
        self.assertEqual(pubrels, [pid], "PUBREL again, with the same packet id")
        b.send(raw.ack(raw.PUBCOMP, pid))
        time.sleep(0.6)  # node 2 writes the finished exchange
        b.send(raw.disconnect())
        b.close()
        time.sleep(0.5)
        # And once more to node 1: the exchange is over, nothing comes back.
        c = raw.connected(self.n[0].port("tcp"), cid, clean=False, properties=EXPIRY)
        self.assertEqual([q.name for q in packets(c, 1.5)], [], "nothing after PUBCOMP")
        pub.pub(t, b"y", qos=2)
        self.assertEqual(c.expect(raw.PUBLISH, 5).publish_fields()[1], b"y", "still subscribed")
        c.close()
        pub.close()
        Client(self.n[0], client_id=cid, clean=True).close()

    def unacknowledged_comes_back_with_its_id(self, qos):
        """A QoS `qos` PUBLISH sent on node 1 and not acknowledged comes again on node 2 under
        its packet id with DUP set (MQTT 4.4), not as a new message under a new id."""
        t, cid = uid(f"unack{qos}"), uid(f"unack{qos}c")
        a = raw.connected(self.n[0].port("tcp"), cid, clean=False, properties=EXPIRY)
        a.send(raw.subscribe(1, [(t, qos)]))
        self.assertEqual(a.expect(raw.SUBACK, 5).body[-1], qos)
        time.sleep(0.3)
        pub = Client(self.n[2])
        # Two finished exchanges first: the unacknowledged one's id is not the first a
        # fresh session would pick.
        for body in (b"done1", b"done2"):
            pub.pub(t, body, qos=qos)
            _, payload, _, pid, _ = a.expect(raw.PUBLISH, 5).publish_fields()
            self.assertEqual(payload, body)
            if qos == 1:
                a.send(raw.ack(raw.PUBACK, pid))
            else:
                a.send(raw.ack(raw.PUBREC, pid))
                a.expect(raw.PUBREL, 5)
                a.send(raw.ack(raw.PUBCOMP, pid))
        pub.pub(t, b"pending", qos=qos)
        p = a.expect(raw.PUBLISH, 5)
        _, payload, got_qos, pid, _ = p.publish_fields()
        self.assertEqual((payload, got_qos, p.flags & 0x08), (b"pending", qos, 0))
        time.sleep(0.5)  # not acknowledged: it waits in the session (its entry is written)
        a.close()
        time.sleep(1.0)
        b = raw.connected(self.n[1].port("tcp"), cid, clean=False, properties=EXPIRY)
        self.assertEqual(b.connack.body[0] & 1, 1, "session present on node 2")
        seen = [q for q in packets(b, 2.0) if q.type == raw.PUBLISH]
        self.assertEqual([(q.publish_fields()[1], q.publish_fields()[2], q.publish_fields()[3], bool(q.flags & 0x08))
                          for q in seen], [(b"pending", qos, pid, True)],
                         "sent again once, with the same packet id and DUP")
        # A new message on node 2 takes another id.
        pub.pub(t, b"new", qos=qos)
        n = b.expect(raw.PUBLISH, 5)
        self.assertEqual(n.publish_fields()[1], b"new")
        self.assertNotEqual(n.publish_fields()[3], pid, "the resent message's id stays reserved")
        self.assertEqual(n.flags & 0x08, 0)
        for q_pid in (pid, n.publish_fields()[3]):
            if qos == 1:
                b.send(raw.ack(raw.PUBACK, q_pid))
            else:
                b.send(raw.ack(raw.PUBREC, q_pid))
                self.assertEqual(b.expect(raw.PUBREL, 5).body[:2], q_pid.to_bytes(2, "big"))
                b.send(raw.ack(raw.PUBCOMP, q_pid))
        self.assertEqual([q.name for q in packets(b, 1.0)], [], "nothing more on node 2")
        time.sleep(0.6)  # node 2 writes the finished exchanges
        b.send(raw.disconnect())
        b.close()
        time.sleep(0.5)
        # Back on node 1: both exchanges are over, nothing comes again.
        c = raw.connected(self.n[0].port("tcp"), cid, clean=False, properties=EXPIRY)
        self.assertEqual(c.connack.body[0] & 1, 1)
        self.assertEqual([q.name for q in packets(c, 1.5)], [], "nothing after the acknowledgements")
        c.close()
        pub.close()
        Client(self.n[0], client_id=cid, clean=True).close()

    def test_outgoing_qos2_not_pubrecd_comes_again_with_its_packet_id_after_a_move(self):
        self.unacknowledged_comes_back_with_its_id(2)

    def test_outgoing_qos1_not_pubacked_comes_again_with_its_packet_id_after_a_move(self):
        self.unacknowledged_comes_back_with_its_id(1)


@harness.skip_on_mosquitto("the cluster is sluice's")
class Death(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster(nodes=3, servers=1).start()
        self.n = self.cluster.nodes

    def tearDown(self):
        self.cluster.stop()

    def test_share_and_qos2_exchanges_survive_kill_9_of_their_node(self):
        t_sh, t_in, t_out, g = uid("dsh"), uid("din"), uid("dout"), uid("g")
        cid_sh, cid_in, cid_out = uid("dshc"), uid("dinc"), uid("doutc")
        watch = Client(self.n[2])
        watch.sub(t_in, qos=2)
        sub = persistent(self.n[0], cid_sh)
        sub.sub(f"$share/{g}/{t_sh}", qos=1)
        sub.close()
        a_out = raw.connected(self.n[0].port("tcp"), cid_out, clean=False, properties=EXPIRY)
        a_out.send(raw.subscribe(1, [(t_out, 2)]))
        self.assertEqual(a_out.expect(raw.SUBACK, 5).body[-1], 2)
        time.sleep(0.5)
        pub = Client(self.n[2])
        # Incoming: PUBREC'd on node 1, not released.
        a_in = raw.connected(self.n[0].port("tcp"), cid_in, clean=False, properties=EXPIRY)
        a_in.send(raw.publish(t_in, b"once", qos=2, pid=9))
        self.assertEqual(a_in.expect(raw.PUBREC, 5).reason, 0)
        # Outgoing: PUBREC'd by the client, PUBCOMP not sent.
        pub.pub(t_out, b"x", qos=2)
        pid = a_out.expect(raw.PUBLISH, 5).publish_fields()[3]
        a_out.send(raw.ack(raw.PUBREC, pid))
        a_out.expect(raw.PUBREL, 5)
        # The share of the only member, offline on node 1.
        for i in range(20):
            pub.pub(t_sh, f"{i}".encode(), qos=1)
        time.sleep(1.0)  # every entry written (250 ms)
        self.n[0].stop(signal.SIGKILL)
        a_in.close()
        a_out.close()
        back = persistent(self.n[1], cid_sh, timeout=10)
        self.assertTrue(back.connack["session_present"])
        got = [m.payload.decode() for m in back.drain(6.0)]
        self.assertEqual(got, [str(i) for i in range(20)], "the share of a killed node's offline member")
        b_in = raw.connected(self.n[1].port("tcp"), cid_in, clean=False, properties=EXPIRY)
        b_in.send(raw.publish(t_in, b"once", qos=2, pid=9, dup=True))
        self.assertEqual(b_in.expect(raw.PUBREC, 5).reason, 0)
        b_in.send(raw.ack(raw.PUBREL, 9))
        self.assertEqual(b_in.expect(raw.PUBCOMP, 5).reason, 0, "the id was known on node 2")
        b_out = raw.connected(self.n[1].port("tcp"), cid_out, clean=False, properties=EXPIRY)
        seen = packets(b_out, 5.0)
        self.assertEqual([q.publish_fields()[1] for q in seen if q.type == raw.PUBLISH], [],
                         "the PUBREC'd message is not sent again")
        self.assertEqual([int.from_bytes(q.body[:2], "big") for q in seen if q.type == raw.PUBREL], [pid])
        self.assertEqual([m.payload for m in watch.drain(1.0)], [b"once"], "exactly once across the death")
        for c in (b_in, b_out):
            c.send(raw.disconnect())
            c.close()
        back.close()
        watch.close()
        pub.close()

    def test_sent_not_acknowledged_comes_again_with_its_id_after_kill_9(self):
        t, cid = uid("dunack"), uid("dunackc")
        a = raw.connected(self.n[0].port("tcp"), cid, clean=False, properties=EXPIRY)
        a.send(raw.subscribe(1, [(t, 2)]))
        self.assertEqual(a.expect(raw.SUBACK, 5).body[-1], 2)
        time.sleep(0.5)
        pub = Client(self.n[2])
        pub.pub(t, b"done", qos=2)
        done = a.expect(raw.PUBLISH, 5).publish_fields()[3]
        a.send(raw.ack(raw.PUBREC, done))
        a.expect(raw.PUBREL, 5)
        a.send(raw.ack(raw.PUBCOMP, done))
        pub.pub(t, b"pending", qos=2)
        pid = a.expect(raw.PUBLISH, 5).publish_fields()[3]
        self.assertNotEqual(pid, 1)
        time.sleep(1.0)  # its entry written (250 ms), then its node killed
        self.n[0].stop(signal.SIGKILL)
        a.close()
        b = raw.connected(self.n[1].port("tcp"), cid, clean=False, properties=EXPIRY)
        self.assertEqual(b.connack.body[0] & 1, 1, "session present on node 2")
        seen = [q for q in packets(b, 5.0) if q.type == raw.PUBLISH]
        self.assertEqual([(q.publish_fields()[1], q.publish_fields()[3], bool(q.flags & 0x08)) for q in seen],
                         [(b"pending", pid, True)], "once more, under its id, with DUP")
        b.send(raw.ack(raw.PUBREC, pid))
        self.assertEqual(b.expect(raw.PUBREL, 5).body[:2], pid.to_bytes(2, "big"))
        b.send(raw.ack(raw.PUBCOMP, pid))
        b.send(raw.disconnect())
        b.close()
        pub.close()


if __name__ == "__main__":
    unittest.main()
