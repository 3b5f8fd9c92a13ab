"""A small synchronous wrapper over Paho Python (1.6.x) for the integration tests."""
import queue
import time
import socket
import threading
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

import harness

__all__ = ["Client", "props", "SubscribeOptions", "PacketTypes", "uid"]


def uid(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def props(packet_type, **kw):
    """Properties(packet_type) with the given attributes (names as in MQTT 5: UserProperty...)."""
    p = Properties(packet_type)
    for k, v in kw.items():
        setattr(p, k, v)
    return p


class Client:
    """Connected on construction; messages land in a queue read with get()."""

    def __init__(self, broker, transport="tcp", version=5, client_id=None, clean=True,
                 session_expiry=None, will=None, connect_props=None, keepalive=30,
                 timeout=5.0, connect=True):
        self.version = version
        self.client_id = client_id if client_id is not None else uid("paho")
        proto = mqtt.MQTTv5 if version == 5 else mqtt.MQTTv311
        tr = "websockets" if transport in ("ws", "wss") else "tcp"
        if version == 5:
            self.c = mqtt.Client(self.client_id, protocol=proto, transport=tr)
        else:
            self.c = mqtt.Client(self.client_id, clean_session=clean, protocol=proto,
                                 transport=tr)
        if tr == "websockets":
            self.c.ws_set_options(path="/mqtt")
        if transport in ("tls", "wss"):
            self.c.tls_set(ca_certs=broker.ca_file)
        if will:
            self.c.will_set(**will)
        self.broker, self.transport, self.clean = broker, transport, clean
        self.session_expiry, self.connect_props, self.keepalive = (
            session_expiry, connect_props, keepalive)
        self.timeout = timeout
        self.messages = queue.Queue()
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.connack = None
        self.disconnect_rc = None
        self._acks = {}
        self._lock = threading.Lock()
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = self._on_unsubscribe
        self.c.on_disconnect = self._on_disconnect
        if connect:
            self.connect()

    # -- callbacks (network thread) ------------------------------------------------------
    def _on_connect(self, c, u, flags, rc, properties=None):
        self.connack = {"flags": flags, "rc": rc, "props": properties,
                        "session_present": bool(flags.get("session present"))}
        self.connected.set()

    def _on_message(self, c, u, msg):
        self.messages.put(msg)

    def _ack(self, mid, value):
        with self._lock:
            ev = self._acks.setdefault(mid, [threading.Event(), None])
            ev[1] = value
            ev[0].set()

    def _on_subscribe(self, c, u, mid, granted, properties=None):
        self._ack(mid, granted)

    def _on_unsubscribe(self, c, u, mid, *rest):
        self._ack(mid, rest)

    def _on_disconnect(self, c, u, rc, properties=None):
        self.disconnect_rc = rc
        self.disconnected.set()

    def _wait_ack(self, mid):
        with self._lock:
            ev = self._acks.setdefault(mid, [threading.Event(), None])
        if not ev[0].wait(self.timeout):
            raise AssertionError(f"{self.client_id}: no ack for mid {mid}")
        with self._lock:
            del self._acks[mid]
        return ev[1]

    # -- operations ---------------------------------------------------------------------
    def connect(self):
        b = self.broker
        port = b.port(self.transport)
        if self.version == 5:
            p = self.connect_props or Properties(PacketTypes.CONNECT)
            if self.session_expiry is not None:
                p.SessionExpiryInterval = self.session_expiry
            self.c.connect(b.host, port, keepalive=self.keepalive, clean_start=self.clean,
                           properties=p)
        else:
            self.c.connect(b.host, port, keepalive=self.keepalive)
        self.c.loop_start()
        if not self.connected.wait(self.timeout):
            self.c.loop_stop()
            raise AssertionError(f"{self.client_id}: no CONNACK over {self.transport}")
        rc = self.connack["rc"]
        if (rc.value if hasattr(rc, "value") else rc) != 0:
            self.c.loop_stop()
            raise AssertionError(f"{self.client_id}: CONNACK refused: {rc}")
        return self

    def sub(self, topic, qos=1, options=None, properties=None):
        """Subscribe and wait for SUBACK; returns the granted QoS / reason codes."""
        if self.version == 5:
            opts = options or SubscribeOptions(qos=qos)
            rc, mid = self.c.subscribe(topic, options=opts, properties=properties)
        else:
            rc, mid = self.c.subscribe(topic, qos)
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        return self._wait_ack(mid)

    def unsub(self, topic):
        rc, mid = self.c.unsubscribe(topic)
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        return self._wait_ack(mid)

    def pub(self, topic, payload=b"", qos=1, retain=False, properties=None):
        """Publish and, for QoS > 0, wait for the flow to complete."""
        info = self.c.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, info.rc
        if qos > 0:
            info.wait_for_publish(self.timeout)
            if not info.is_published():
                raise AssertionError(f"{self.client_id}: QoS {qos} publish to {topic} "
                                     "not acknowledged")
        return info

    def get(self, timeout=None):
        try:
            return self.messages.get(timeout=timeout or self.timeout)
        except queue.Empty:
            raise AssertionError(f"{self.client_id}: no message within "
                                 f"{timeout or self.timeout}s") from None

    def get_payloads(self, n, timeout=None):
        return [self.get(timeout).payload for _ in range(n)]

    def take(self, n, timeout=10.0, wait=0.3):
        """The messages that came until n had come or `timeout` passed, then any more that
        come within `wait` (duplicates, say): a slow machine (ASan) gets the time it needs,
        a quick one does not wait long."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                out.append(self.messages.get(timeout=left))
            except queue.Empty:
                break
        return out + self.drain(wait)

    def drain(self, wait=0.3):
        out = []
        while True:
            try:
                out.append(self.messages.get(timeout=wait))
            except queue.Empty:
                return out

    def close(self):
        """Normal DISCONNECT."""
        try:
            if self.c.is_connected():
                self.c.disconnect()
                self.disconnected.wait(2)
        finally:
            self.c.loop_stop()

    def drop(self):
        """Abnormal end: the socket closes without a DISCONNECT packet."""
        # Tell the network thread to end without reconnecting, then cut the socket under
        # it (joining it first would cost up to its 1 s select timeout).
        self.c._thread_terminate = True
        s = self.c.socket()
        if s is not None:
            raw = getattr(s, "_socket", s)  # WebsocketWrapper keeps the real one here
            try:
                raw.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.c.loop_stop()


def is_mosquitto():
    return harness.IS_MOSQUITTO
