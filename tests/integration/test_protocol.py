#!/usr/bin/python3
"""Protocol flows at the packet level (raw sockets): keep alive, session takeover, QoS 2
exactly-once with a duplicate, receive maximum in both directions, $-topics and wildcards,
retained with wildcards, will retain, unsubscribe."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import mqtt_raw as m  # noqa: E402
from mqtt_raw import Closed, connack_props, connected  # noqa: E402
from paho_client import uid  # noqa: E402

STRICT = not harness.IS_MOSQUITTO


class ProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker().start()

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()

    def tearDown(self):
        self.assertTrue(self.b.alive(), "broker died:\n" + self.b.log_tail())

    def conn(self, client_id=None, **kw):
        c = connected(self.b.mqtt_port, client_id or uid("p")[:20], **kw)
        self.addCleanup(c.close)
        return c

    def sub(self, c, *filters, qos=1):
        c.send(m.subscribe(1, [(f, qos) for f in filters], version=c.version))
        sa = c.expect(m.SUBACK)
        return sa

    def next_publish(self, c, timeout=5, ack=True):
        p = c.expect(m.PUBLISH, timeout)
        f = p.publish_fields(c.version)
        if ack and f[2] == 1:
            c.send(m.ack(m.PUBACK, f[3], version=c.version))
        return f

    def test_keep_alive_timeout_drops_client_and_sends_will(self):
        wt = uid("kaw")
        watcher = self.conn()
        self.sub(watcher, wt)
        silent = self.conn(keepalive=1, will=dict(topic=wt, payload=b"timed out"))
        ka = connack_props(silent.connack).get(m.SERVER_KEEP_ALIVE, 1)
        t0 = time.monotonic()
        # 1.5 x keep alive (MQTT 3.1.2.10), plus slack; mosquitto checks only now and then.
        limit = 1.5 * ka + (3 if STRICT else 10)
        try:
            pkts = silent.read_until_close(timeout=limit)
        except TimeoutError:
            self.fail(f"silent client (keep alive {ka}s) not dropped after {limit}s")
        dt = time.monotonic() - t0
        self.assertGreaterEqual(dt, 0.9 * ka, "not dropped before the keep alive period")
        for p in pkts:
            self.assertEqual(p.type, m.DISCONNECT, p)
            self.assertEqual(p.reason, 0x8D, "keep alive timeout")
        t, payload, *_ = self.next_publish(watcher)
        self.assertEqual((t, payload), (wt, b"timed out"))

    def test_pingreq_keeps_the_connection(self):
        c = self.conn(keepalive=1)
        for _ in range(4):
            time.sleep(0.5)
            c.send(m.PINGREQ_PKT)
            self.assertEqual(c.expect(m.PINGRESP).type, m.PINGRESP)

    def test_session_takeover(self):
        for version in (4, 5):
            with self.subTest(version=version):
                cid = uid("take")[:20]
                first = self.conn(cid, version=version)
                second = self.conn(cid, version=version)
                try:
                    pkts = first.read_until_close(timeout=5)
                except TimeoutError:
                    self.fail("the first connection is not closed on takeover")
                if version == 5:
                    discs = [p for p in pkts if p.type == m.DISCONNECT]
                    if discs or STRICT:
                        self.assertTrue(discs, "v5: DISCONNECT before the takeover close")
                        self.assertEqual(discs[0].reason, 0x8E, "session taken over")
                else:
                    self.assertEqual(pkts, [])
                second.send(m.PINGREQ_PKT)
                self.assertEqual(second.expect(m.PINGRESP).type, m.PINGRESP)

    def test_qos2_exactly_once_with_duplicate_publish(self):
        topic = uid("eo")
        s = self.conn()
        self.sub(s, topic, qos=2)
        p = self.conn()
        pkt = m.publish(topic, b"once", qos=2, pid=77)
        p.send(pkt)
        self.assertEqual(p.expect(m.PUBREC).reason, 0)
        # The PUBREC "was lost": the client resends the PUBLISH with DUP set.
        p.send(m.publish(topic, b"once", qos=2, pid=77, dup=True))
        self.assertEqual(p.expect(m.PUBREC).reason, 0)
        p.send(m.ack(m.PUBREL, 77))
        self.assertEqual(p.expect(m.PUBCOMP).reason, 0)
        # The subscriber gets it once (QoS 2 flow with it too).
        got = []
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            try:
                q = s.read(max(0.05, deadline - time.monotonic()))
            except TimeoutError:
                break
            if q.type == m.PUBLISH:
                f = q.publish_fields()
                got.append(f[1])
                s.send(m.ack(m.PUBREC, f[3]))
            elif q.type == m.PUBREL:
                s.send(m.ack(m.PUBCOMP, int.from_bytes(q.body[:2], "big")))
        self.assertEqual(got, [b"once"], "exactly once")

    def test_client_receive_maximum_respected(self):
        topic = uid("rm")
        s = self.conn(properties=m.p_u16(m.RECEIVE_MAXIMUM, 2))
        self.sub(s, topic)
        p = self.conn()
        for i in range(5):
            p.send(m.publish(topic, b"%d" % i, qos=1, pid=i + 1))
            p.expect(m.PUBACK)
        first = [self.next_publish(s, ack=False) for _ in range(2)]
        try:
            extra = s.read(0.7)
            self.fail(f"a third unacknowledged QoS 1 message was sent: {extra}")
        except TimeoutError:
            pass
        for f in first:
            s.send(m.ack(m.PUBACK, f[3]))
        rest = [self.next_publish(s)[1] for _ in range(3)]
        self.assertEqual([f[1] for f in first] + rest, [b"0", b"1", b"2", b"3", b"4"])

    def test_server_receive_maximum_enforced(self):
        if harness.IS_MOSQUITTO:
            self.skipTest("mosquitto 2.0.11 does not enforce its receive maximum")
        c = self.conn()
        rmax = connack_props(c.connack).get(m.RECEIVE_MAXIMUM, 65535)
        if rmax >= 65535:
            # rmax + 1 distinct packet ids cannot exist: nothing to exceed.
            self.skipTest("server receive maximum 65535 cannot be exceeded")
        # rmax + 1 QoS 2 publishes that are never released (at most 65,535 small packets),
        # sent in chunks while the PUBRECs are drained.
        pkts, closed = [], False
        pkt_ids = list(range(1, rmax + 2))
        for start in range(0, len(pkt_ids), 2000):
            chunk = b"".join(m.publish("rmax", b"", qos=2, pid=i)
                             for i in pkt_ids[start:start + 2000])
            if not c.try_send(chunk):
                closed = True
                break
            try:
                while True:
                    pkts.append(c.read(0.01))
            except TimeoutError:
                pass
            except Closed:
                closed = True
                break
        if not closed:
            try:
                pkts += c.read_until_close(timeout=5)
            except TimeoutError:
                self.fail(f"{rmax + 1} unreleased QoS 2 publishes accepted "
                          f"(receive maximum {rmax})")
        discs = [p for p in pkts if p.type == m.DISCONNECT]
        self.assertTrue(discs or not STRICT, "DISCONNECT 0x93 expected")
        if discs:
            self.assertEqual(discs[0].reason, 0x93, "receive maximum exceeded")


    def test_dollar_topics_not_matched_by_leading_wildcards(self):
        allsub = self.conn()
        self.sub(allsub, "#", "+/status")
        dollar = self.conn()
        self.sub(dollar, "$test/#")
        p = self.conn()
        p.send(m.publish("$test/status", b"dollar", qos=1, pid=1))
        ack = p.read()
        if ack.type == m.PUBACK and ack.reason == 0:
            t, payload, *_ = self.next_publish(dollar)
            self.assertEqual((t, payload), ("$test/status", b"dollar"))
        p.send(m.publish(uid("plain") + "/status", b"plain", qos=1, pid=2))
        # "#" and "+/status" each match the plain topic; neither may match "$test/status".
        for _ in range(2):
            t, payload, *_ = self.next_publish(allsub)
            self.assertEqual(payload, b"plain", f"{t} delivered to '#' or '+/status'")

    def test_retained_with_wildcard_subscription(self):
        base = uid("rw")
        p = self.conn()
        for i, t in enumerate(["a", "b/c", "d/e/f"]):
            p.send(m.publish(f"{base}/{t}", t.encode(), qos=1, pid=i + 1, retain=True))
            p.expect(m.PUBACK)
        s = self.conn()
        self.sub(s, f"{base}/#")
        got = sorted(self.next_publish(s)[:2] for _ in range(3))
        self.assertEqual(got, [(f"{base}/a", b"a"), (f"{base}/b/c", b"b/c"),
                               (f"{base}/d/e/f", b"d/e/f")])
        s2 = self.conn()
        self.sub(s2, f"{base}/+")
        self.assertEqual(self.next_publish(s2)[:2], (f"{base}/a", b"a"))
        for i, t in enumerate(["a", "b/c", "d/e/f"]):
            p.send(m.publish(f"{base}/{t}", b"", qos=1, pid=i + 10, retain=True))
            p.expect(m.PUBACK)

    def test_will_retain(self):
        wt = uid("wr")
        d = self.conn(will=dict(topic=wt, payload=b"retained will", qos=1, retain=True))
        d.close()  # no DISCONNECT
        time.sleep(0.3)
        late = self.conn()
        self.sub(late, wt)
        t, payload, qos, pid, retain = self.next_publish(late)
        self.assertEqual((t, payload, retain), (wt, b"retained will", True))
        p = self.conn()
        p.send(m.publish(wt, b"", qos=1, pid=1, retain=True))
        p.expect(m.PUBACK)

    def test_unsubscribe_stops_delivery(self):
        topic = uid("un")
        s = self.conn()
        self.sub(s, topic)
        s.send(m.unsubscribe(2, [topic, "never/subscribed"]))
        ua = s.expect(m.UNSUBACK)
        self.assertEqual(list(ua.body[-2:]), [0x00, 0x11], "UNSUBACK: success, no subscription")
        p = self.conn()
        p.send(m.publish(topic, b"gone", qos=1, pid=1))
        p.expect(m.PUBACK)
        try:
            q = s.read(0.7)
            self.fail(f"delivered after UNSUBACK: {q}")
        except TimeoutError:
            pass

    def test_puback_no_matching_subscribers(self):
        # v5: a QoS 1 publish nobody subscribes to gets PUBACK 0x00 or 0x10 (no matching
        # subscribers) — never an error.
        p = self.conn()
        p.send(m.publish(uid("nobody"), b"x", qos=1, pid=1))
        self.assertIn(p.expect(m.PUBACK).reason, (0x00, 0x10))

    def test_overlapping_subscriptions_v311_max_qos(self):
        topic = uid("ov")
        s = self.conn(version=4)
        s.send(m.subscribe(1, [(f"{topic}/#", 0), (f"{topic}/+", 1)], version=4))
        s.expect(m.SUBACK)
        p = self.conn(version=4)
        p.send(m.publish(f"{topic}/x", b"o", qos=1, pid=1, version=4))
        p.expect(m.PUBACK)
        # One copy at the maximum QoS (or one per subscription): at least one at QoS 1.
        f = self.next_publish(s)
        extra = []
        try:
            while True:
                extra.append(self.next_publish(s, timeout=0.4))
        except (TimeoutError, Closed):
            pass
        self.assertIn(1, [f[2]] + [e[2] for e in extra])

    def test_empty_client_id_v311_requires_clean_session(self):
        c = m.RawConn(self.b.mqtt_port)
        self.addCleanup(c.close)
        c.send(m.connect("", version=4, clean=False))
        try:
            pkts = c.read_until_close(timeout=5)
        except TimeoutError:
            self.fail("v3.1.1 empty client id with clean session 0 was accepted")
        if pkts:
            self.assertEqual((pkts[0].type, pkts[0].reason), (m.CONNACK, 0x02),
                             "identifier rejected")


if __name__ == "__main__":
    harness.main()
