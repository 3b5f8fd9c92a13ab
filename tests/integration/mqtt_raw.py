"""Hand-built MQTT packets over raw sockets, for hostile and load tests.

Builders return complete packets (bytes); anything can be forged by building the body
by hand and wrapping it with packet(). RawConn reads whole packets back.
"""
import select
import socket
import struct
import time

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = range(8, 16)
NAMES = {1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL",
         7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK",
         12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT", 15: "AUTH"}

# Property identifiers (MQTT 5, 2.2.2.2)
PAYLOAD_FORMAT, MESSAGE_EXPIRY, CONTENT_TYPE, RESPONSE_TOPIC, CORRELATION_DATA = 1, 2, 3, 8, 9
SUBSCRIPTION_ID, SESSION_EXPIRY, ASSIGNED_CLIENT_ID, SERVER_KEEP_ALIVE = 11, 17, 18, 19
RECEIVE_MAXIMUM, TOPIC_ALIAS_MAXIMUM, TOPIC_ALIAS, MAXIMUM_QOS = 33, 34, 35, 36
RETAIN_AVAILABLE, USER_PROPERTY, MAXIMUM_PACKET_SIZE, REASON_STRING = 37, 38, 39, 31


def varint(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def decode_varint(buf, pos):
    mult, value = 1, 0
    for i in range(4):
        if pos + i >= len(buf):
            return None, pos
        b = buf[pos + i]
        value += (b & 0x7F) * mult
        if not b & 0x80:
            return value, pos + i + 1
        mult *= 128
    raise ValueError("varint longer than 4 bytes")


def s(x):
    """UTF-8 string / binary data: 2-byte length + bytes (x may be str or bytes)."""
    if isinstance(x, str):
        x = x.encode()
    return struct.pack("!H", len(x)) + x


def u16(n):
    return struct.pack("!H", n)


def u32(n):
    return struct.pack("!I", n)


# property encoders: identifier + value
def p_byte(pid, v):
    return bytes([pid, v])


def p_u16(pid, v):
    return bytes([pid]) + u16(v)


def p_u32(pid, v):
    return bytes([pid]) + u32(v)


def p_varint(pid, v):
    return bytes([pid]) + varint(v)


def p_str(pid, v):
    return bytes([pid]) + s(v)


def p_pair(pid, k, v):
    return bytes([pid]) + s(k) + s(v)


def props(*items):
    body = b"".join(items)
    return varint(len(body)) + body


def packet(first_byte, body):
    return bytes([first_byte]) + varint(len(body)) + body


def connect(client_id="", version=5, clean=True, keepalive=30, properties=b"", will=None,
            username=None, password=None, proto_name="MQTT", flags_extra=0):
    """will: dict(topic, payload, qos=0, retain=False, properties=b'')"""
    flags = 0x02 if clean else 0
    payload = s(client_id)
    if will:
        flags |= 0x04 | (will.get("qos", 0) << 3) | (0x20 if will.get("retain") else 0)
        if version == 5:
            payload += props(will.get("properties", b""))
        payload += s(will["topic"]) + s(will["payload"])
    if username is not None:
        flags |= 0x80
        payload += s(username)
    if password is not None:
        flags |= 0x40
        payload += s(password)
    flags |= flags_extra
    vh = s(proto_name) + bytes([version, flags]) + u16(keepalive)
    if version == 5:
        vh += props(properties)
    return packet(0x10, vh + payload)


def publish(topic, payload=b"", qos=0, pid=None, retain=False, dup=False, version=5,
            properties=b"", raw_props=None):
    if isinstance(payload, str):
        payload = payload.encode()
    first = 0x30 | (qos << 1) | (1 if retain else 0) | (0x08 if dup else 0)
    vh = s(topic)
    if qos:
        vh += u16(pid if pid is not None else 1)
    if version == 5:
        vh += raw_props if raw_props is not None else props(properties)
    return packet(first, vh + payload)


def subscribe(pid, filters, version=5, properties=b""):
    """filters: [(filter, options_byte)]"""
    body = u16(pid)
    if version == 5:
        body += props(properties)
    for f, o in filters:
        body += s(f) + bytes([o])
    return packet(0x82, body)


def unsubscribe(pid, filters, version=5):
    body = u16(pid) + (props() if version == 5 else b"")
    for f in filters:
        body += s(f)
    return packet(0xA2, body)


def ack(ptype, pid, version=5, reason=0):
    flags = 0x02 if ptype == PUBREL else 0
    body = u16(pid)
    if version == 5 and reason:
        body += bytes([reason])
    return packet((ptype << 4) | flags, body)


def disconnect(version=5, reason=0):
    return packet(0xE0, bytes([reason]) if version == 5 and reason else b"")


PINGREQ_PKT = b"\xc0\x00"


class Packet:
    def __init__(self, first, body):
        self.first, self.body = first, body
        self.type, self.flags = first >> 4, first & 0x0F

    @property
    def name(self):
        return NAMES.get(self.type, str(self.type))

    @property
    def reason(self):
        """Reason code of CONNACK (v5 reason / v3 return code), DISCONNECT, PUBACK..."""
        if self.type == CONNACK:
            return self.body[1]
        if self.type == DISCONNECT:
            return self.body[0] if self.body else 0
        if self.type in (PUBACK, PUBREC, PUBREL, PUBCOMP):
            return self.body[2] if len(self.body) > 2 else 0
        return None

    def publish_fields(self, version=5):
        qos = (self.flags >> 1) & 3
        tl = struct.unpack_from("!H", self.body, 0)[0]
        topic = self.body[2:2 + tl].decode()
        pos = 2 + tl
        pid = None
        if qos:
            pid = struct.unpack_from("!H", self.body, pos)[0]
            pos += 2
        if version == 5:
            plen, pos = decode_varint(self.body, pos)
            pos += plen
        return topic, self.body[pos:], qos, pid, bool(self.flags & 1)

    def __repr__(self):
        return f"<{self.name} flags={self.flags:#x} body={self.body[:40].hex()}>"


class Closed(Exception):
    pass


class RawConn:
    def __init__(self, port, host="127.0.0.1", timeout=5.0, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.buf = bytearray()
        self.eof = False
        self.timeout = timeout

    def send(self, data):
        self.sock.sendall(data)

    def try_send(self, data):
        """send that reports a closed connection instead of raising."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no packet in time")
        r, _, _ = select.select([self.sock], [], [], remaining)
        if not r:
            raise TimeoutError("no packet in time")
        try:
            data = self.sock.recv(65536)
        except OSError:  # reset: the server closed with data unread
            data = b""
        if not data:
            self.eof = True
            raise Closed()
        self.buf += data

    def read(self, timeout=None):
        """Next whole packet; raises Closed on EOF/reset, TimeoutError on timeout."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            if len(self.buf) >= 2:
                n, pos = decode_varint(self.buf, 1)
                if n is not None and len(self.buf) >= pos + n:
                    p = Packet(self.buf[0], bytes(self.buf[pos:pos + n]))
                    del self.buf[:pos + n]
                    return p
            if self.eof:
                raise Closed()
            self._fill(deadline)

    def read_until_close(self, timeout=5.0):
        """All packets until the server closes. Raises TimeoutError if it stays open."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                out.append(self.read(max(0.0, deadline - time.monotonic())))
            except Closed:
                return out

    def expect(self, ptype, timeout=None):
        while True:
            p = self.read(timeout)
            if p.type == ptype:
                return p
            if p.type in (DISCONNECT,):
                raise AssertionError(f"expected {NAMES[ptype]}, got {p} reason {p.reason:#x}")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def connected(port, client_id="", version=5, properties=b"", **kw):
    """A RawConn past a successful CONNACK; .connack holds the packet."""
    c = RawConn(port)
    c.send(connect(client_id, version=version, properties=properties, **kw))
    ca = c.read()
    if ca.type != CONNACK or ca.reason != 0:
        raise AssertionError(f"CONNECT refused: {ca}")
    c.connack = ca
    c.version = version
    return c


def connack_props(pkt):
    """{id: value} of a v5 CONNACK's properties (numbers and strings decoded)."""
    body = pkt.body
    n, pos = decode_varint(body, 2)
    end = pos + n
    out = {}
    one = {1, 23, 25, 36, 37, 40, 41, 42}
    two = {19, 33, 34, 35}
    four = {2, 17, 24, 39}
    strs = {3, 8, 18, 21, 26, 28, 31}
    while pos < end:
        pid = body[pos]
        pos += 1
        if pid in one:
            out[pid] = body[pos]
            pos += 1
        elif pid in two:
            out[pid] = struct.unpack_from("!H", body, pos)[0]
            pos += 2
        elif pid in four:
            out[pid] = struct.unpack_from("!I", body, pos)[0]
            pos += 4
        elif pid in strs or pid == 9 or pid == 22:
            ln = struct.unpack_from("!H", body, pos)[0]
            out[pid] = body[pos + 2:pos + 2 + ln]
            pos += 2 + ln
        elif pid == 38:
            k = struct.unpack_from("!H", body, pos)[0]
            pos += 2 + k
            v = struct.unpack_from("!H", body, pos)[0]
            pos += 2 + v
        elif pid == 11:
            out[pid], pos = decode_varint(body, pos)
        else:
            raise ValueError(f"unknown property {pid}")
    return out
