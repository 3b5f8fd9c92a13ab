#!/usr/bin/python3
"""Malformed packets, protocol errors and hostile clients over raw sockets.

For each MQTT 5 malformed-packet / protocol-error class the v5 client must get a
DISCONNECT with the right reason code (0x81 malformed, 0x82 protocol error, 0x90 topic
name invalid, 0x94 topic alias invalid, 0x95 packet too large) and then the close; a
v3.1.1 client just gets the close. Against sluice the DISCONNECT is required (our spec:
"the protocol's disconnect with a reason"); against mosquitto (used to validate these
tests) a bare close is accepted, since MQTT 5 makes that DISCONNECT a MAY.

After every case a normal client must still connect and round-trip a message.
"""
import os
import re
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from mqtt_raw import (  # noqa: E402
    CONNACK, DISCONNECT, PUBACK, PUBLISH, SUBACK, UNSUBACK, Closed, RawConn, ack, connack_props,
    connect, connected, disconnect, p_byte, p_pair, p_str, p_u16, p_u32, p_varint, packet, props,
    publish, s, subscribe, u16, unsubscribe, varint)

STRICT = not harness.IS_MOSQUITTO
MALFORMED, PROTOCOL_ERROR, TOPIC_NAME_INVALID, TOPIC_ALIAS_INVALID = 0x81, 0x82, 0x90, 0x94
PACKET_TOO_LARGE, UNSUPPORTED_VERSION = 0x95, 0x84

# Cases sent after a successful v5 CONNECT: (name, packet or callable(connack)->packet,
# acceptable DISCONNECT reason codes[, what mosquitto 2.0.11 does instead]). Where MQTT 5
# names the code, only that code. The optional last item documents where mosquitto (which
# validates these tests) departs from MQTT 5: other codes it sends, or SKIP where it
# ignores the error.
SKIP = "skip"
V5_CASES = [
    ("reserved flags: SUBSCRIBE with flags 0000",
     packet(0x80, u16(1) + props() + s("a") + b"\x00"), {MALFORMED}),
    ("reserved flags: UNSUBSCRIBE with flags 0000",
     packet(0xA0, u16(1) + props() + s("a")), {MALFORMED}),
    ("reserved flags: PUBREL with flags 0000", packet(0x60, u16(1)), {MALFORMED}),
    ("reserved flags: PINGREQ with flags 0001", b"\xc1\x00", {MALFORMED}, SKIP),
    ("reserved flags: DISCONNECT with flags 0010", b"\xe2\x00", {MALFORMED}),
    ("reserved packet type 0", b"\x00\x00", {MALFORMED, PROTOCOL_ERROR}),
    ("remaining length varint of 5 bytes", b"\x30\xff\xff\xff\xff\x01", {MALFORMED}),
    ("PUBLISH QoS 3", packet(0x36, s("a") + u16(1) + props() + b"x"), {MALFORMED}),
    ("invalid UTF-8 in topic", publish(b"a/\xc3\x28"), {MALFORMED}),
    ("UTF-16 surrogate encoded in topic", publish(b"a/\xed\xa0\x80"), {MALFORMED}),
    ("overlong UTF-8 in topic", publish(b"a/\xc0\xaf"), {MALFORMED}),
    ("U+0000 in topic", publish(b"a\x00b"), {MALFORMED}),
    # MQTT 5 names no code for this; 0x90 fits its definition, 0x82 is defensible.
    ("wildcard plus in PUBLISH topic", publish("a/+/b"), {TOPIC_NAME_INVALID, PROTOCOL_ERROR}),
    ("wildcard hash in PUBLISH topic", publish("a/#"), {TOPIC_NAME_INVALID, PROTOCOL_ERROR}),
    ("second CONNECT", connect("again"), {PROTOCOL_ERROR}),
    ("duplicate property (payload format indicator)",
     publish("a", properties=p_byte(1, 0) + p_byte(1, 0)), {PROTOCOL_ERROR}),
    ("duplicate property (message expiry interval)",
     publish("a", properties=p_u32(2, 10) + p_u32(2, 20)), {PROTOCOL_ERROR}),
    ("topic alias 0", publish("a", properties=p_u16(35, 0)), {TOPIC_ALIAS_INVALID},
     {MALFORMED}),
    ("topic alias above the maximum",
     lambda ca: publish("a", properties=p_u16(35, connack_props(ca).get(34, 0) + 1)),
     {TOPIC_ALIAS_INVALID}),
    ("empty topic without topic alias", publish(""), {PROTOCOL_ERROR}),
    ("empty topic with an unmapped topic alias", publish("", properties=p_u16(35, 1)),
     {PROTOCOL_ERROR}),
    ("packet id 0 on QoS 1 PUBLISH", publish("a", qos=1, pid=0), {PROTOCOL_ERROR, MALFORMED}),
    ("packet id 0 on QoS 2 PUBLISH", publish("a", qos=2, pid=0), {PROTOCOL_ERROR, MALFORMED}),
    ("packet id 0 on SUBSCRIBE", subscribe(0, [("a", 0)]), {PROTOCOL_ERROR, MALFORMED}),
    ("SUBSCRIBE with no filters", subscribe(1, []), {PROTOCOL_ERROR}, {MALFORMED}),
    ("UNSUBSCRIBE with no filters", unsubscribe(1, []), {PROTOCOL_ERROR}, {MALFORMED}),
    ("subscription options reserved bits", subscribe(1, [("a", 0xC0)]), {MALFORMED}),
    ("subscription maximum QoS 3", subscribe(1, [("a", 0x03)]), {PROTOCOL_ERROR, MALFORMED}),
    ("subscription retain handling 3", subscribe(1, [("a", 0x30)]),
     {PROTOCOL_ERROR, MALFORMED}),
    ("invalid UTF-8 in topic filter", subscribe(1, [(b"a/\xff", 0)]), {MALFORMED}),
    ("subscription identifier 0", subscribe(1, [("a", 0)], properties=p_varint(11, 0)),
     {PROTOCOL_ERROR, MALFORMED}),
    ("subscription identifier in a client PUBLISH", publish("a", properties=p_varint(11, 3)),
     {PROTOCOL_ERROR}, SKIP),
    ("property not allowed in PUBLISH (session expiry)", publish("a", properties=p_u32(17, 9)),
     {PROTOCOL_ERROR, MALFORMED}),
    ("unknown property identifier", publish("a", properties=b"\x7f\x00"), {MALFORMED}),
    ("property length beyond the packet", publish("a", raw_props=varint(50) + b"\x01\x00"),
     {MALFORMED}),
    ("topic length beyond the packet", packet(0x30, u16(100) + b"ab"), {MALFORMED}),
    ("truncated packet id", packet(0x32, s("a") + b"\x00"), {MALFORMED}),
    ("invalid UTF-8 in a user property",
     publish("a", properties=p_pair(38, "k", b"\xff\xfe")), {MALFORMED}),
    ("AUTH without an authentication method", packet(0xF0, b"\x18" + props()),
     {PROTOCOL_ERROR}),
    ("PUBACK with a reserved flag", packet(0x41, u16(1)), {MALFORMED}, SKIP),
]

# Cases on a v5 connection that was made with session expiry 0.
V5_DISCONNECT_CASES = [
    ("DISCONNECT raising session expiry from 0",
     packet(0xE0, b"\x00" + props(p_u32(17, 60))), {PROTOCOL_ERROR}),
]

# v3.1.1: no server DISCONNECT exists, the connection must just close.
V3_CASES = [
    ("reserved flags: SUBSCRIBE with flags 0000", packet(0x80, u16(1) + s("a") + b"\x00")),
    ("remaining length varint of 5 bytes", b"\x30\xff\xff\xff\xff\x01"),
    ("PUBLISH QoS 3", packet(0x36, s("a") + u16(1) + b"x")),
    ("invalid UTF-8 in topic", publish(b"a/\xc3\x28", version=4)),
    ("U+0000 in topic", publish(b"a\x00b", version=4)),
    ("wildcard in PUBLISH topic", publish("a/#", version=4)),
    ("second CONNECT", connect("again", version=4)),
    ("packet id 0 on QoS 1 PUBLISH", publish("a", qos=1, pid=0, version=4)),
    ("SUBSCRIBE with no filters", subscribe(1, [], version=4)),
    ("subscription QoS 3", subscribe(1, [("a", 3)], version=4)),
    ("reserved packet type 0", b"\x00\x00"),
    ("AUTH packet in 3.1.1", packet(0xF0, b"\x00")),
]

# First packet is not a valid CONNECT: (name, bytes, acceptable CONNACK codes or None
# when only a close without any packet is right).
CONNECT_CASES = [
    ("PUBLISH before CONNECT", publish("a", version=4), None),
    ("SUBSCRIBE before CONNECT", subscribe(1, [("a", 0)], version=4), None),
    ("PINGREQ before CONNECT", b"\xc0\x00", None),
    ("CONNECT reserved flag bit set (v5)", connect("r", flags_extra=0x01), {MALFORMED}),
    ("CONNECT reserved flag bit set (v3.1.1)", connect("r", version=4, flags_extra=0x01), set()),
    ("CONNECT will QoS 3", connect("w", will=dict(topic="w", payload=b"x", qos=3)),
     {MALFORMED}),
    ("CONNECT will QoS without will flag", connect("w", flags_extra=0x08), {MALFORMED}),
    ("CONNECT duplicate property",
     connect("d", properties=p_u32(17, 1) + p_u32(17, 2)), {PROTOCOL_ERROR, MALFORMED}),
    ("CONNECT receive maximum 0", connect("d", properties=p_u16(33, 0)),
     {PROTOCOL_ERROR, MALFORMED}),
    ("CONNECT invalid UTF-8 client id", connect(b"\xff\xfe"), {MALFORMED, 0x85}),
    ("CONNECT wildcard in will topic", connect("w", will=dict(topic="a/#", payload=b"x")),
     {TOPIC_NAME_INVALID, MALFORMED, PROTOCOL_ERROR}),
    ("CONNECT packet truncated", packet(0x10, s("MQTT") + b"\x05"), {MALFORMED}),
]


def slug(name):
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def round_trip(b, tag="check"):
    """A normal v5 client connects, subscribes and gets its own QoS 1 message back."""
    c = connected(b.mqtt_port, f"normal-{tag}"[:23])
    try:
        topic = f"normal/{tag}"
        c.send(subscribe(1, [(topic, 1)]))
        sa = c.expect(SUBACK)
        assert sa.body[-1] == 1, f"SUBACK {sa}"
        c.send(publish(topic, b"still here", qos=1, pid=2))
        got_ack = got_msg = False
        while not (got_ack and got_msg):
            p = c.read()
            if p.type == PUBACK:
                got_ack = True
            elif p.type == PUBLISH:
                t, payload, qos, pid, _ = p.publish_fields()
                assert (t, payload) == (topic, b"still here"), (t, payload)
                c.send(ack(PUBACK, pid))
                got_msg = True
        c.send(disconnect())
    finally:
        c.close()


class HostileBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker().start()

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()

    def assert_healthy(self, tag):
        self.assertTrue(self.b.alive(), "broker died:\n" + self.b.log_tail())
        try:
            round_trip(self.b, tag)
        except (AssertionError, OSError, TimeoutError, Closed) as e:
            self.fail(f"a normal client no longer round-trips after {tag}: {e!r}")

    def assert_rejected(self, conn, codes, what, strict=STRICT):
        """The server answers with DISCONNECT(code in codes) then closes, or (lenient) just
        closes; it must not accept the packet."""
        try:
            pkts = conn.read_until_close(timeout=5)
        except TimeoutError:
            self.fail(f"{what}: connection still open 5 s later (expected DISCONNECT "
                      f"{sorted(hex(c) for c in codes)} and close)")
        finally:
            conn.close()
        discs = [p for p in pkts if p.type == DISCONNECT]
        others = [p for p in pkts if p.type != DISCONNECT]
        self.assertEqual(others, [], f"{what}: the server answered as if accepted")
        if discs:
            self.assertIn(discs[0].reason, codes,
                          f"{what}: DISCONNECT reason {discs[0].reason:#04x}, expected one of "
                          f"{sorted(hex(c) for c in codes)}")
        elif strict:
            self.fail(f"{what}: closed without a DISCONNECT (expected reason "
                      f"{sorted(hex(c) for c in codes)})")


class MalformedV5Test(HostileBase):
    pass


class MalformedV3Test(HostileBase):
    pass


class ConnectPhaseTest(HostileBase):
    pass


def _v5_case(name, pkt, codes, mosquitto=None):
    def t(self):
        if harness.IS_MOSQUITTO and mosquitto == SKIP:
            self.skipTest("mosquitto 2.0.11 accepts this (departs from MQTT 5)")
        if harness.IS_MOSQUITTO and mosquitto:
            codes_ = set(codes) | set(mosquitto)
        else:
            codes_ = codes
        c = connected(self.b.mqtt_port, "hostile-v5")
        data = pkt(c.connack) if callable(pkt) else pkt
        c.send(data)
        self.assert_rejected(c, codes_, name)
        self.assert_healthy(slug(name))
    return t


def _v3_case(name, pkt):
    def t(self):
        c = connected(self.b.mqtt_port, "hostile-v3", version=4)
        c.send(pkt)
        self.assert_rejected(c, set(), name, strict=False)
        self.assert_healthy(slug(name))
    return t


def _connect_case(name, pkt, codes):
    def t(self):
        c = RawConn(self.b.mqtt_port)
        c.send(pkt)
        try:
            pkts = c.read_until_close(timeout=5)
        except TimeoutError:
            self.fail(f"{name}: connection still open 5 s later")
        finally:
            c.close()
        if codes is None:
            self.assertEqual(pkts, [], f"{name}: nothing may be sent before a CONNECT")
        else:
            self.assertLessEqual(len(pkts), 1, pkts)
            if pkts:
                self.assertEqual(pkts[0].type, CONNACK, pkts)
                if codes:
                    self.assertIn(pkts[0].reason, codes,
                                  f"{name}: CONNACK reason {pkts[0].reason:#04x}")
                else:
                    self.assertNotEqual(pkts[0].reason, 0, f"{name}: accepted")
        self.assert_healthy(slug(name))
    return t


for _case in V5_CASES + V5_DISCONNECT_CASES:
    _name = f"test_{slug(_case[0])}"
    assert not hasattr(MalformedV5Test, _name), _name
    setattr(MalformedV5Test, _name, _v5_case(*_case))
for _n, _p in V3_CASES:
    setattr(MalformedV3Test, f"test_{slug(_n)}", _v3_case(_n, _p))
for _n, _p, _c in CONNECT_CASES:
    setattr(ConnectPhaseTest, f"test_{slug(_n)}", _connect_case(_n, _p, _c))


class ProtocolVersionTest(HostileBase):
    def check_unsupported(self, pkt, name, allow_close):
        c = RawConn(self.b.mqtt_port)
        c.send(pkt)
        try:
            pkts = c.read_until_close(timeout=5)
        except TimeoutError:
            self.fail(f"{name}: connection still open 5 s later")
        finally:
            c.close()
        if not pkts and allow_close:
            return
        self.assertEqual(len(pkts), 1, f"{name}: expected one CONNACK then close, got {pkts}")
        ca = pkts[0]
        self.assertEqual(ca.type, CONNACK, ca)
        if len(ca.body) == 2:  # 3.1.1 form: return code 1, unacceptable protocol version
            self.assertEqual(ca.body[1], 0x01, f"{name}: v3 CONNACK return code")
        else:  # 5 form: 0x84 unsupported protocol version
            self.assertEqual(ca.body[1], UNSUPPORTED_VERSION, f"{name}: v5 CONNACK reason")

    def test_unknown_protocol_level_6(self):
        self.check_unsupported(connect("lv6", version=6), "level 6", allow_close=False)
        self.assert_healthy("level6")

    def test_unknown_protocol_level_3_with_mqtt_name(self):
        # Level 3 is MQTT 3.1, whose protocol name is MQIsdp: level/name mismatch.
        self.check_unsupported(connect("lv3", version=3, proto_name="MQTT"), "MQTT/3",
                               allow_close=True)
        self.assert_healthy("level3")

    def test_unknown_protocol_level_255(self):
        self.check_unsupported(connect("lv255", version=255), "level 255", allow_close=False)
        self.assert_healthy("level255")

    def test_wrong_protocol_name(self):
        self.check_unsupported(connect("name", version=4, proto_name="MQTX"), "MQTX",
                               allow_close=True)
        self.assert_healthy("protoname")

    def test_http_request_on_mqtt_port(self):
        c = RawConn(self.b.mqtt_port)
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            pkts = c.read_until_close(timeout=5)
        except TimeoutError:
            self.fail("HTTP on the MQTT port: connection still open 5 s later")
        c.close()
        self.assertEqual([p for p in pkts if p.type == CONNACK and p.reason == 0], [])
        self.assert_healthy("http")

    def test_mqtt_31_still_accepted(self):
        c = RawConn(self.b.mqtt_port)
        c.send(connect("v31client", version=3, proto_name="MQIsdp"))
        ca = c.read()
        self.assertEqual((ca.type, ca.body[1]), (CONNACK, 0), "MQTT 3.1 (MQIsdp/3) accepted")
        c.close()

    def test_invalid_subscription_filter_rejected_in_suback(self):
        # "a/#/b" and "a+/b" are invalid filters: SUBACK 0x8F for them (or a DISCONNECT),
        # and the valid filter in the same SUBSCRIBE is granted.
        c = connected(self.b.mqtt_port, "badfilter")
        c.send(subscribe(7, [("ok/+", 1), ("a/#/b", 1), ("a+/b", 0)]))
        try:
            p = c.read()
        except Closed:
            self.assertFalse(STRICT, "closed without a DISCONNECT or SUBACK")
            return
        if p.type == DISCONNECT:
            self.assertIn(p.reason, {0x8F, MALFORMED, PROTOCOL_ERROR})
        else:
            self.assertEqual(p.type, SUBACK, p)
            codes = list(p.body[-3:])
            self.assertEqual(codes[0], 1)
            self.assertEqual(codes[1:], [0x8F, 0x8F], f"SUBACK codes {codes}")
        c.close()
        self.assert_healthy("badfilter")

    def test_payload_format_utf8_with_invalid_payload(self):
        # Validating the payload is a MAY: accepted, or refused with 0x99 (payload format
        # invalid) in the PUBACK or a DISCONNECT.
        c = connected(self.b.mqtt_port, "pfi")
        c.send(publish("pfi", b"\xff\xfe\xfd", qos=1, pid=3, properties=p_byte(1, 1)))
        try:
            p = c.read()
        except Closed:
            self.fail("closed without a reason")
        self.assertIn(p.type, (PUBACK, DISCONNECT), p)
        self.assertIn(p.reason, {0, 0x10, 0x99}, f"{p.name} reason {p.reason:#x}")
        c.close()
        self.assert_healthy("pfi")

    def test_pubrel_unknown_packet_id(self):
        c = connected(self.b.mqtt_port, "pubrel")
        c.send(ack(6, 4242))  # PUBREL for nothing
        p = c.read()
        self.assertEqual(p.type, 7, f"PUBCOMP expected, got {p}")
        self.assertIn(p.reason, {0x00, 0x92}, "PUBCOMP reason (0x92 packet id not found)")
        c.close()


class ResourceTest(HostileBase):
    def rss_mib(self):
        return self.b.rss_kb() / 1024

    def test_huge_remaining_length_v5(self):
        self._huge(5)

    def test_huge_remaining_length_v311(self):
        self._huge(4)

    def test_huge_remaining_length_before_connect(self):
        before = self.rss_mib()
        c = RawConn(self.b.mqtt_port)
        c.send(b"\x10" + varint(268435455) + b"\x00\x04MQTT\x05")
        c.try_send(b"\x00" * 65536)
        t0 = time.monotonic()
        try:
            c.read_until_close(timeout=5)
        except TimeoutError:
            grew = self.rss_mib() - before
            c.close()
            self.fail(f"a 256 MiB CONNECT is still being read 5 s later (server RSS grew "
                      f"{grew:.1f} MiB)")
        self.assertLess(time.monotonic() - t0, 5)
        c.close()
        self.assertLess(self.rss_mib() - before, 32 + harness.MEMORY_SLACK_MIB, "RSS grew")
        self.assert_healthy("hugeconnect")

    def _huge(self, version):
        before = self.rss_mib()
        c = connected(self.b.mqtt_port, f"huge{version}", version=version)
        t0 = time.monotonic()
        # PUBLISH announcing 256 MiB - 1 (the largest remaining length), then some of it.
        c.send(b"\x30" + varint(268435455) + s("big/topic") +
               (props() if version == 5 else b""))
        sent = 0
        chunk = b"\x00" * 65536
        while sent < 4 * 1024 * 1024 and time.monotonic() - t0 < 2:
            if not c.try_send(chunk):
                break
            sent += len(chunk)
        try:
            pkts = c.read_until_close(timeout=5)
        except TimeoutError:
            grew = self.rss_mib() - before
            c.close()
            self.fail(f"v{version}: a 256 MiB PUBLISH is still being read 5 s later "
                      f"({sent} bytes sent; server RSS grew {grew:.1f} MiB)")
        except OSError:
            pkts = []
        elapsed = time.monotonic() - t0
        c.close()
        self.assertLess(elapsed, 6, "closed quickly")
        if version == 5:
            discs = [p for p in pkts if p.type == DISCONNECT]
            if discs:
                self.assertEqual(discs[0].reason, PACKET_TOO_LARGE)
            elif STRICT and sent < 4 * 1024 * 1024:
                # (If the server closed while we were still writing, the kernel may have
                # discarded its DISCONNECT with an RST; only the clean case is checked.)
                self.fail("v5: 256 MiB PUBLISH closed without DISCONNECT 0x95")
        grew = self.rss_mib() - before
        self.assertLess(grew, 32 + harness.MEMORY_SLACK_MIB, f"RSS grew by {grew:.1f} MiB for a rejected packet")
        self.assert_healthy(f"huge{version}")

    def test_server_maximum_packet_size_enforced(self):
        # The server's Maximum Packet Size (CONNACK), if any, is enforced with 0x95.
        c = connected(self.b.mqtt_port, "maxpkt")
        mps = connack_props(c.connack).get(39)
        if mps is None or mps > 8 * 1024 * 1024:
            c.close()
            self.skipTest(f"server maximum packet size {mps} not small enough to test cheaply")
        # The fixed header alone proves the packet too large; sending all of it
        # would race the server's close (EPIPE/RST), so send its first KiB.
        c.send(publish("big", b"x" * mps)[:1024])
        self.assert_rejected(c, {PACKET_TOO_LARGE}, "packet above the server maximum")
        self.assert_healthy("maxpkt")

    def test_client_maximum_packet_size_respected(self):
        # A subscriber that says Maximum Packet Size 200 is not sent a bigger packet.
        sub = connected(self.b.mqtt_port, "smallsub", properties=p_u32(39, 200))
        sub.send(subscribe(1, [("mps/#", 1)]))
        sub.expect(SUBACK)
        pub = connected(self.b.mqtt_port, "mpspub")
        pub.send(publish("mps/big", b"x" * 1000, qos=1, pid=1))
        pub.send(publish("mps/small", b"ok", qos=1, pid=2))
        p = sub.expect(PUBLISH)
        self.assertEqual(p.publish_fields()[:2], ("mps/small", b"ok"),
                         "the oversized message is skipped, the next one arrives")
        for c in (sub, pub):
            c.close()

    def test_connect_timeout(self):
        # A client that connects and never sends CONNECT, and one that stops half-way,
        # are dropped by the server's connect timeout.
        if harness.IS_MOSQUITTO:
            self.skipTest("mosquitto has no CONNECT timeout")
        silent = RawConn(self.b.mqtt_port)
        partial = RawConn(self.b.mqtt_port)
        partial.send(connect("half")[:7])
        t0 = time.monotonic()
        for name, c in (("silent", silent), ("half CONNECT", partial)):
            try:
                c.read_until_close(timeout=max(0.1, 12.5 - (time.monotonic() - t0)))
            except TimeoutError:
                self.fail(f"{name}: connection not dropped within 12.5 s")
            finally:
                c.close()
        self.assert_healthy("connect-timeout")

    def test_connect_disconnect_cycles(self):
        n_threads, per = 4, 2500
        before = self.rss_mib()
        errors = []
        counts = [0] * n_threads
        port = self.b.mqtt_port
        conn_pkt = [connect(f"cyc{i}", version=5 if i % 2 else 4) for i in range(n_threads)]
        disc = disconnect()

        def worker(i):
            try:
                for k in range(per):
                    sk = socket.create_connection(("127.0.0.1", port), timeout=5)
                    try:
                        sk.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        sk.sendall(conn_pkt[i])
                        buf = b""
                        while len(buf) < 4:
                            d = sk.recv(64)
                            if not d:
                                raise AssertionError(f"closed before CONNACK (cycle {k})")
                            buf += d
                        if buf[0] != 0x20 or buf[3] != 0:
                            raise AssertionError(f"bad CONNACK {buf.hex()} (cycle {k})")
                        sk.sendall(disc)
                    finally:
                        sk.close()
                    counts[i] += 1
            except Exception as e:  # noqa: BLE001
                errors.append(f"thread {i}: {e!r}")

        t0 = time.monotonic()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        elapsed = time.monotonic() - t0
        sys.stderr.write(f"  {sum(counts)} connect/disconnect cycles in {elapsed:.1f}s\n")
        self.assertEqual(errors, [])
        self.assertEqual(sum(counts), n_threads * per)
        self.assertLess(elapsed, 90)
        grew = self.rss_mib() - before
        self.assertLess(grew, 64 + harness.MEMORY_SLACK_MIB, f"RSS grew by {grew:.1f} MiB over 10,000 short sessions")
        if not harness.IS_MOSQUITTO:
            deadline = time.monotonic() + 5
            while True:
                m = re.search(r"^sluice_connections(?:\{[^}]*\})?\s+(\S+)",
                              self.b.metrics_text(), re.M)
                if m and float(m.group(1)) <= 1:
                    break
                if time.monotonic() > deadline:
                    self.fail(f"sluice_connections stays at {m and m.group(1)} after all "
                              "clients left")
                time.sleep(0.2)
        self.assert_healthy("cycles")

    def test_slow_subscriber_flood(self):
        """A subscriber that never reads while a publisher floods QoS 0: the publisher and
        a reading subscriber keep working, and the server's memory stays bounded."""
        topic = "flood/t"
        base = self.rss_mib()
        slow = RawConn(self.b.mqtt_port, rcvbuf=4096)
        slow.send(connect("slow-sub"))
        slow.read()
        slow.send(subscribe(1, [(topic, 0)]))
        slow.expect(SUBACK)
        # (slow never reads again)

        good = connected(self.b.mqtt_port, "good-sub")
        good.send(subscribe(1, [(topic, 0), ("flood/done", 1)]))
        good.expect(SUBACK)
        got = {"flood": 0, "done": False, "err": None}
        stop = threading.Event()

        def reader():
            try:
                while not stop.is_set():
                    try:
                        p = good.read(0.5)
                    except TimeoutError:
                        continue
                    if p.type == PUBLISH:
                        t, payload, qos, pid, _ = p.publish_fields()
                        if t == topic:
                            got["flood"] += 1
                        elif t == "flood/done":
                            good.send(ack(PUBACK, pid))
                            got["done"] = True
                            return
            except Exception as e:  # noqa: BLE001
                got["err"] = repr(e)
        rt = threading.Thread(target=reader, daemon=True)
        rt.start()

        peak = [base]

        def sampler():
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], self.rss_mib())
                except (OSError, RuntimeError):
                    return
                time.sleep(0.1)
        st = threading.Thread(target=sampler, daemon=True)
        st.start()

        pub = connected(self.b.mqtt_port, "flooder")
        msg = publish(topic, b"F" * 1024)
        batch = msg * 64
        sent = 0
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3.0:
            pub.send(batch)
            sent += 64
        sent_mib = sent * len(msg) / 2**20
        # The publisher still works: a QoS 1 publish is acknowledged.
        pub.send(publish("flood/done", b"done", qos=1, pid=9))
        try:
            pa = pub.expect(PUBACK, timeout=20)
        except (TimeoutError, Closed) as e:
            self.fail(f"publisher got no PUBACK after flooding {sent_mib:.0f} MiB: {e!r}")
        self.assertEqual(pa.reason, 0)
        rt.join(20)
        stop.set()
        st.join(2)
        sys.stderr.write(f"  flooded {sent} msgs ({sent_mib:.0f} MiB); good subscriber got "
                         f"{got['flood']}; RSS {base:.0f} -> peak {peak[0]:.0f} MiB\n")
        self.assertIsNone(got["err"])
        self.assertTrue(got["done"], "the reading subscriber got the QoS 1 message after "
                                     "the flood")
        self.assertGreater(got["flood"], 0, "the reading subscriber got flood messages")
        self.assertLess(peak[0] - base, 200 + harness.MEMORY_SLACK_MIB,
                        f"RSS grew {peak[0] - base:.0f} MiB while {sent_mib:.0f} MiB were "
                        "published to a subscriber that does not read")
        for c in (pub, good, slow):
            c.close()
        self.assert_healthy("flood")


if __name__ == "__main__":
    harness.main()
