#!/usr/bin/python3
"""MQTT over WebSocket at the frame level (RFC 6455 + MQTT 5 §6), with a raw client:
handshake and subprotocol, packets split across frames and several packets in one frame,
fragmented messages, control frames, and a DISCONNECT followed at once by the close frame
(what MQTT.js does on end()), which must still count as a normal disconnect."""
import base64
import hashlib
import os
import socket
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import mqtt_raw as m  # noqa: E402
from paho_client import uid  # noqa: E402

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def frame(opcode, payload, fin=True, mask=True):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        hdr = bytes([b0, (0x80 if mask else 0) | n])
    elif n < 65536:
        hdr = bytes([b0, (0x80 if mask else 0) | 126]) + struct.pack("!H", n)
    else:
        hdr = bytes([b0, (0x80 if mask else 0) | 127]) + struct.pack("!Q", n)
    if not mask:
        return hdr + payload
    key = os.urandom(4)
    return hdr + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


class WsConn:
    """A raw WebSocket client carrying MQTT; read() returns whole MQTT packets."""

    def __init__(self, port, path="/mqtt", protocol="mqtt"):
        self.sock = socket.create_connection((harness.HOST, port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: {harness.HOST}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n")
        if protocol:
            req += f"Sec-WebSocket-Protocol: {protocol}\r\n"
        self.sock.sendall((req + "\r\n").encode())
        resp = b""
        while b"\r\n\r\n" not in resp:
            d = self.sock.recv(4096)
            if not d:
                raise m.Closed()
            resp += d
        head, self.rest = resp.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.expected_accept = base64.b64encode(
            hashlib.sha1((key + GUID).encode()).digest()).decode()
        self.mqtt_buf = bytearray()
        self.frames = []  # control frames seen
        self.closed = False

    def send_mqtt(self, data, opcode=OP_BIN):
        self.sock.sendall(frame(opcode, data))

    def _read_frame(self, deadline):
        buf = self.rest

        def need(n):
            nonlocal buf
            while len(buf) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError()
                self.sock.settimeout(left)
                try:
                    d = self.sock.recv(65536)
                except socket.timeout:
                    raise TimeoutError() from None
                except OSError:
                    d = b""
                if not d:
                    self.closed = True
                    raise m.Closed()
                buf += d
        need(2)
        op, ln = buf[0] & 0x0F, buf[1] & 0x7F
        pos = 2
        if ln == 126:
            need(4)
            ln = struct.unpack_from("!H", buf, 2)[0]
            pos = 4
        elif ln == 127:
            need(10)
            ln = struct.unpack_from("!Q", buf, 2)[0]
            pos = 10
        if buf[1] & 0x80:
            raise AssertionError("server frames must not be masked")
        need(pos + ln)
        payload = bytes(buf[pos:pos + ln])
        self.rest = buf[pos + ln:]
        return op, payload

    def read(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            if len(self.mqtt_buf) >= 2:
                n, pos = m.decode_varint(self.mqtt_buf, 1)
                if n is not None and len(self.mqtt_buf) >= pos + n:
                    p = m.Packet(self.mqtt_buf[0], bytes(self.mqtt_buf[pos:pos + n]))
                    del self.mqtt_buf[:pos + n]
                    return p
            op, payload = self._read_frame(deadline)
            if op in (OP_BIN, OP_CONT):
                self.mqtt_buf += payload
            elif op == OP_CLOSE:
                self.frames.append((op, payload))
                raise m.Closed()
            else:
                self.frames.append((op, payload))

    def read_control(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            op, payload = self._read_frame(deadline)
            if op not in (OP_BIN, OP_CONT):
                return op, payload
            self.mqtt_buf += payload

    def wait_closed(self, timeout=5.0):
        """True when the server closes (close frame or TCP close) within timeout."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                op, _ = self._read_frame(deadline)
                if op == OP_CLOSE:
                    return True
        except m.Closed:
            return True
        except TimeoutError:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class WebSocketTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker().start()

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()

    def tearDown(self):
        self.assertTrue(self.b.alive(), "broker died:\n" + self.b.log_tail())

    def ws(self, **kw):
        c = WsConn(self.b.ws_port, **kw)
        self.addCleanup(c.close)
        return c

    def ws_connected(self, client_id, version=5, will=None):
        c = self.ws()
        self.assertEqual(c.status, 101)
        c.send_mqtt(m.connect(client_id, version=version, will=will))
        ca = c.read()
        self.assertEqual((ca.type, ca.reason), (m.CONNACK, 0))
        return c

    def tcp_sub(self, *topics):
        s = m.connected(self.b.mqtt_port, uid("wssub")[:20])
        self.addCleanup(s.close)
        s.send(m.subscribe(1, [(t, 0) for t in topics]))
        s.expect(m.SUBACK)
        return s

    def test_handshake_subprotocol_and_accept(self):
        c = self.ws()
        self.assertEqual(c.status, 101)
        self.assertEqual(c.headers.get("sec-websocket-accept"), c.expected_accept)
        self.assertEqual(c.headers.get("sec-websocket-protocol"), "mqtt")
        self.assertEqual(c.headers.get("upgrade", "").lower(), "websocket")

    def test_packet_split_across_frames_and_packets_sharing_a_frame(self):
        c = self.ws()
        pkt = m.connect(uid("split")[:20])
        # CONNECT in three binary frames, byte boundaries mid-header.
        c.send_mqtt(pkt[:1])
        c.send_mqtt(pkt[1:5])
        c.send_mqtt(pkt[5:])
        ca = c.read()
        self.assertEqual((ca.type, ca.reason), (m.CONNACK, 0))
        topic = uid("ws")
        # SUBSCRIBE + PUBLISH + PINGREQ in one frame.
        c.send_mqtt(m.subscribe(1, [(topic, 1)]) + m.publish(topic, b"same frame", qos=1, pid=2)
                    + m.PINGREQ_PKT)
        seen = {}
        while len(seen) < 4:
            p = c.read()
            seen[p.type] = p
            if p.type == m.PUBLISH:
                c.send_mqtt(m.ack(m.PUBACK, p.publish_fields()[3]))
        self.assertEqual(set(seen), {m.SUBACK, m.PUBACK, m.PUBLISH, m.PINGRESP})
        self.assertEqual(seen[m.PUBLISH].publish_fields()[1], b"same frame")

    def test_fragmented_message(self):
        c = self.ws()
        pkt = m.connect(uid("frag")[:20])
        c.sock.sendall(frame(OP_BIN, pkt[:3], fin=False) + frame(OP_CONT, pkt[3:8], fin=False)
                       + frame(OP_PING, b"hi") + frame(OP_CONT, pkt[8:], fin=True))
        ca = c.read()
        self.assertEqual((ca.type, ca.reason), (m.CONNACK, 0))
        self.assertIn((OP_PONG, b"hi"), c.frames, "ping inside a fragmented message answered")

    def test_ping_pong(self):
        c = self.ws_connected(uid("ping")[:20])
        c.sock.sendall(frame(OP_PING, b"abc"))
        self.assertEqual(c.read_control(), (OP_PONG, b"abc"))

    def test_large_message_over_ws(self):
        topic = uid("wsbig")
        c = self.ws_connected(uid("big")[:20])
        c.send_mqtt(m.subscribe(1, [(topic, 0)]))
        c.read()
        payload = os.urandom(300_000)
        t0 = time.monotonic()
        c.send_mqtt(m.publish(topic, payload))
        p = c.read(20)
        sys.stderr.write(f" ({time.monotonic() - t0:.2f}s) ")
        self.assertEqual(p.publish_fields()[1], payload)

    def test_disconnect_then_close_frame_is_a_normal_disconnect(self):
        topic, wt = uid("wsclose"), uid("wswill")
        s = self.tcp_sub(topic, wt)
        c = self.ws_connected(uid("wc")[:20], will=dict(topic=wt, payload=b"will"))
        # PUBLISH, DISCONNECT and the WebSocket close frame in one write, then TCP close.
        c.sock.sendall(frame(OP_BIN, m.publish(topic, b"last")) + frame(OP_BIN, m.disconnect())
                       + frame(OP_CLOSE, struct.pack("!H", 1000)))
        time.sleep(0.2)
        c.close()
        p = s.read(5)
        self.assertEqual(p.publish_fields()[:2], (topic, b"last"),
                         "PUBLISH sent just before the close frame is delivered")
        s.send(m.publish(wt, b"marker"))
        p = s.read(5)
        self.assertEqual(p.publish_fields()[:2], (wt, b"marker"),
                         "no will after DISCONNECT followed by a close frame")

    def test_a_connection_the_server_ends_gets_a_close_frame(self):
        # RFC 6455 7.1.2: the server ends the connection (here: the client id connects again,
        # MQTT 5 DISCONNECT 0x8E) with a Close frame, status 1000, after the DISCONNECT: a
        # browser client sees a normal closure, not 1006 (abnormal).
        if harness.IS_MOSQUITTO:
            self.skipTest("mosquitto sends no DISCONNECT on a takeover")
        cid = uid("wstake")[:20]
        c = self.ws_connected(cid)
        self.ws_connected(cid)
        p = c.read(5)
        self.assertEqual((p.type, p.reason), (m.DISCONNECT, 0x8E))
        op, payload = c.read_control(5)
        self.assertEqual((op, payload), (OP_CLOSE, struct.pack("!H", 1000)))

    def test_close_frame_without_disconnect_publishes_will(self):
        wt = uid("wswill")
        s = self.tcp_sub(wt)
        c = self.ws_connected(uid("wd")[:20], will=dict(topic=wt, payload=b"gone"))
        c.sock.sendall(frame(OP_CLOSE, struct.pack("!H", 1000)))
        self.assertTrue(c.wait_closed(), "server completes the close handshake")
        p = s.read(5)
        self.assertEqual(p.publish_fields()[:2], (wt, b"gone"))

    def test_text_frame_closes_connection(self):
        # MQTT 5 §6: "If any other type of data frame is received the recipient MUST close
        # the Network Connection".
        if harness.IS_MOSQUITTO:
            self.skipTest("mosquitto 2.0.11 (libwebsockets) accepts text frames")
        c = self.ws()
        c.send_mqtt(m.connect(uid("text")[:20]), opcode=OP_TEXT)
        try:
            p = c.read(5)
            self.fail(f"text frame accepted: got {p}")
        except m.Closed:
            pass
        except TimeoutError:
            self.fail("connection still open 5 s after a text frame")
        self.ws_connected(uid("after")[:20])

    def test_unmasked_client_frame_closes_connection(self):
        # RFC 6455 5.1: a server MUST close the connection on an unmasked client frame.
        if harness.IS_MOSQUITTO:
            self.skipTest("mosquitto 2.0.11 (libwebsockets) accepts unmasked frames")
        c = self.ws()
        c.sock.sendall(frame(OP_BIN, m.connect(uid("unmasked")[:20]), mask=False))
        try:
            p = c.read(5)
            self.fail(f"unmasked frame accepted: got {p}")
        except m.Closed:
            self.assertIn((OP_CLOSE, struct.pack("!H", 1002)), c.frames, "a Close frame, 1002 protocol error")
        except TimeoutError:
            self.fail("connection still open 5 s after an unmasked frame")
        self.ws_connected(uid("after")[:20])


if __name__ == "__main__":
    harness.main()
