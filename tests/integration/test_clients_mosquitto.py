#!/usr/bin/python3
"""Debian's mosquitto_pub / mosquitto_sub against the broker, MQTT 3.1.1 and 5, TCP and TLS.

(mosquitto-clients cannot speak WebSocket; test_paho.py and the MQTT.js tests cover it.)
"""
import os
import queue
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import mqtt_raw  # noqa: E402

VERSIONS = ["mqttv311", "mqttv5"]
TRANSPORTS = ["tcp", "tls"]
FMT = "MSG|%t|%q|%r|%p"  # one line per received message (payloads here have no newline)


def uid(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Sub:
    """A running mosquitto_sub in debug mode; message lines parsed from -F FMT."""

    def __init__(self, args):
        self.proc = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", "-d", "-F", FMT, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True, bufsize=1,
                                     start_new_session=True)
        self.lines = queue.Queue()
        self.all = []
        self.suback = threading.Event()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.all.append(line)
            if "received SUBACK" in line:
                self.suback.set()
            if line.startswith("MSG|"):
                _, topic, qos, retain, payload = line.split("|", 4)
                self.lines.put((topic, int(qos), int(retain), payload))
        self.lines.put(None)

    def wait_subscribed(self, timeout=5):
        if not self.suback.wait(timeout):
            raise AssertionError("mosquitto_sub got no SUBACK: " + "\n".join(self.all))

    def get(self, timeout=5):
        try:
            m = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message within {timeout}s; output:\n" + "\n".join(self.all))
        if m is None:
            raise AssertionError("mosquitto_sub exited before the message; output:\n"
                                 + "\n".join(self.all))
        return m

    def wait_exit(self, timeout=5):
        return self.proc.wait(timeout)

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        self.proc.wait(5)
        self.t.join(2)
        self.proc.stdout.close()


class MosquittoClientsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker().start()

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()

    def setUp(self):
        self.subs = []

    def tearDown(self):
        for s in self.subs:
            s.kill()
        self.assertTrue(self.b.alive(), "broker died:\n" + self.b.log_tail())

    # -- helpers -----------------------------------------------------------------------
    def conn_args(self, version, transport):
        a = ["-h", harness.HOST, "-p", str(self.b.port(transport)), "-V", version]
        if transport == "tls":
            a += ["--cafile", self.b.ca_file]
        return a

    def sub(self, version, transport, *args):
        s = Sub(self.conn_args(version, transport) + list(args))
        self.subs.append(s)
        return s

    def pub(self, version, transport, *args, check=True):
        r = subprocess.run(["mosquitto_pub", "-d", *self.conn_args(version, transport), *args],
                           capture_output=True, text=True, timeout=10)
        if check:
            self.assertEqual(r.returncode, 0, f"mosquitto_pub {args} failed:\n{r.stdout}{r.stderr}")
        return r.stdout

    def cases(self):
        for v in VERSIONS:
            for t in TRANSPORTS:
                yield v, t

    # -- tests -------------------------------------------------------------------------
    def test_qos_round_trips(self):
        for v, t in self.cases():
            for qos in (0, 1, 2):
                with self.subTest(version=v, transport=t, qos=qos):
                    topic = uid("rt") + "/x"
                    s = self.sub(v, t, "-q", str(qos), "-t", topic, "-C", "1", "-W", "10")
                    s.wait_subscribed()
                    out = self.pub(v, t, "-q", str(qos), "-t", topic, "-m", f"hello {qos}")
                    if qos == 1:
                        self.assertIn("received PUBACK", out)
                    if qos == 2:
                        self.assertIn("received PUBREC", out)
                        self.assertIn("received PUBCOMP", out)
                    self.assertEqual(s.get(), (topic, qos, 0, f"hello {qos}"))
                    self.assertEqual(s.wait_exit(), 0)
                    if qos == 2:
                        dbg = "\n".join(s.all)
                        self.assertIn("sending PUBREC", dbg)
                        self.assertIn("received PUBREL", dbg)
                        self.assertIn("sending PUBCOMP", dbg)

    def test_qos_downgraded_to_subscription(self):
        for v, t in self.cases():
            with self.subTest(version=v, transport=t):
                topic = uid("dg")
                s = self.sub(v, t, "-q", "0", "-t", topic, "-C", "1", "-W", "10")
                s.wait_subscribed()
                self.pub(v, t, "-q", "2", "-t", topic, "-m", "down")
                self.assertEqual(s.get(), (topic, 0, 0, "down"))

    def test_wildcards(self):
        for v, t in self.cases():
            with self.subTest(version=v, transport=t):
                base = uid("wc")
                s = self.sub(v, t, "-q", "1", "-t", f"{base}/+/temp", "-t", f"{base}/b/#",
                             "-C", "2", "-W", "10")
                s.wait_subscribed()
                self.pub(v, t, "-q", "1", "-t", f"{base}/a/temp", "-m", "1")
                self.pub(v, t, "-q", "1", "-t", f"{base}/a/hum", "-m", "no")
                self.pub(v, t, "-q", "1", "-t", f"{base}/b/c/d", "-m", "2")
                self.assertEqual(s.get()[3], "1")
                self.assertEqual(s.get()[3], "2")
                self.assertEqual(s.wait_exit(), 0)

    def test_retained_late_subscriber_and_clear(self):
        for v, t in self.cases():
            with self.subTest(version=v, transport=t):
                topic = uid("ret")
                self.pub(v, t, "-q", "1", "-r", "-t", topic, "-m", "kept")
                # A subscriber arriving later gets it, flagged retained.
                s = self.sub(v, t, "-q", "1", "-t", topic, "-C", "1", "-W", "10")
                self.assertEqual(s.get(), (topic, 1, 1, "kept"))
                self.assertEqual(s.wait_exit(), 0)
                # Replaced by a newer retained message.
                self.pub(v, t, "-q", "1", "-r", "-t", topic, "-m", "newer")
                s = self.sub(v, t, "-q", "1", "-t", topic, "-C", "1", "-W", "10")
                self.assertEqual(s.get(), (topic, 1, 1, "newer"))
                # Cleared by an empty retained publish: a new subscriber sees only live traffic.
                self.pub(v, t, "-q", "1", "-r", "-t", topic, "-n")
                s = self.sub(v, t, "-q", "1", "-t", topic, "-C", "1", "-W", "10")
                s.wait_subscribed()
                self.pub(v, t, "-q", "1", "-t", topic, "-m", "live")
                self.assertEqual(s.get(), (topic, 1, 0, "live"))

    def test_will_on_abnormal_disconnect(self):
        for v, t in self.cases():
            with self.subTest(version=v, transport=t):
                wt = uid("will")
                watcher = self.sub(v, t, "-q", "1", "-t", wt, "-C", "1", "-W", "10")
                watcher.wait_subscribed()
                dying = self.sub(v, t, "-q", "0", "-t", uid("idle"), "-i", uid("dying"),
                                 "--will-topic", wt, "--will-payload", "gone",
                                 "--will-qos", "1", "-k", "30")
                dying.wait_subscribed()
                dying.kill(signal.SIGKILL)  # no DISCONNECT: the socket just closes
                self.assertEqual(watcher.get(), (wt, 1, 0, "gone"))

    def test_no_will_on_normal_disconnect(self):
        for v, t in self.cases():
            with self.subTest(version=v, transport=t):
                wt = uid("will")
                watcher = self.sub(v, t, "-q", "1", "-t", wt, "-C", "1", "-W", "10")
                watcher.wait_subscribed()
                # -E: subscribe, then a clean DISCONNECT: the will must be discarded.
                polite = self.sub(v, t, "-q", "0", "-t", uid("idle"), "-E",
                                  "--will-topic", wt, "--will-payload", "wrong")
                self.assertEqual(polite.wait_exit(), 0)
                self.pub(v, t, "-q", "1", "-t", wt, "-m", "marker")
                self.assertEqual(watcher.get()[3], "marker")

    def test_persistent_session_resume(self):
        for v, t in self.cases():
            with self.subTest(version=v, transport=t):
                cid, topic = uid("persist"), uid("q")
                # Create the session and its subscription, then leave (cleanly).
                s = self.sub(v, t, "-c", "-i", cid, "-q", "1", "-t", topic, "-E")
                self.assertEqual(s.wait_exit(), 0)
                for i in range(3):
                    self.pub(v, t, "-q", "1", "-t", topic, "-m", f"queued {i}")
                # Reconnect with the same client id and no new subscription: queued ones arrive.
                s = Sub(self.conn_args(v, t) + ["-c", "-i", cid, "-q", "1", "-t", topic,
                                                 "-C", "3", "-W", "10"])
                self.subs.append(s)
                got = [s.get()[3] for _ in range(3)]
                self.assertEqual(got, ["queued 0", "queued 1", "queued 2"])
                self.assertEqual(s.wait_exit(), 0)
                # The resuming CONNECT was accepted.
                self.assertTrue(any("received CONNACK" in line and ("(0)" in line)
                                    for line in s.all), s.all)

    def test_clean_session_discards_queue(self):
        for v, t in self.cases():
            with self.subTest(version=v, transport=t):
                cid, topic = uid("clean"), uid("q")
                s = self.sub(v, t, "-c", "-i", cid, "-q", "1", "-t", topic, "-E")
                self.assertEqual(s.wait_exit(), 0)
                self.pub(v, t, "-q", "1", "-t", topic, "-m", "stale")
                # Same id, clean start: the old session and its queue are gone.
                s = self.sub(v, t, "-i", cid, "-q", "1", "-t", topic, "-C", "1", "-W", "10")
                s.wait_subscribed()
                self.pub(v, t, "-q", "1", "-t", topic, "-m", "fresh")
                self.assertEqual(s.get()[3], "fresh")

    def test_large_payload(self):
        for v, t in self.cases():
            with self.subTest(version=v, transport=t):
                topic = uid("big")
                payload = "x" * 200_000
                s = self.sub(v, t, "-q", "1", "-t", topic, "-C", "1", "-W", "10")
                s.wait_subscribed()
                path = os.path.join(self.b.dir, "big.txt")
                with open(path, "w") as f:
                    f.write(payload)
                self.pub(v, t, "-q", "1", "-t", topic, "-f", path)
                got = s.get()
                self.assertEqual(len(got[3]), len(payload))
                self.assertEqual(got[3], payload)


class TlsCloseTest(unittest.TestCase):
    """What mosquitto_pub does over TLS, made deterministic: the client's last packets
    (PUBLISH, DISCONNECT) and its TLS close_notify reach the server in one TCP write.
    The packets before the close_notify must still be processed."""

    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker().start()

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()

    def tls_client(self):
        ctx = ssl.create_default_context(cafile=self.b.ca_file)
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(inc, out, server_hostname=harness.HOST)
        sock = socket.create_connection((harness.HOST, self.b.mqtts_port), timeout=5)

        def pump_in():
            data = sock.recv(65536)
            if not data:
                raise AssertionError("server closed during TLS setup")
            inc.write(data)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                if out.pending:
                    sock.sendall(out.read())
                pump_in()
        if out.pending:
            sock.sendall(out.read())
        return sock, tls, out, pump_in

    def test_packets_before_close_notify_are_processed(self):
        topic, wt = uid("tlsclose"), uid("tlswill")
        for version in (4, 5):
            with self.subTest(version=version):
                sub = mqtt_raw.connected(self.b.mqtt_port, uid("tcsub")[:20])
                sub.send(mqtt_raw.subscribe(1, [(topic, 0), (wt, 0)]))
                sub.expect(mqtt_raw.SUBACK)
                sock, tls, out, pump_in = self.tls_client()
                tls.write(mqtt_raw.connect(uid("tc")[:20], version=version,
                                           will=dict(topic=wt, payload=b"will")))
                sock.sendall(out.read())
                buf = b""
                while len(buf) < 4:
                    try:
                        buf += tls.read(1024)
                    except ssl.SSLWantReadError:
                        pump_in()
                self.assertEqual((buf[0], buf[3]), (0x20, 0), f"CONNACK {buf.hex()}")
                # PUBLISH + DISCONNECT + close_notify, one write.
                tls.write(mqtt_raw.publish(topic, b"last words", version=version))
                tls.write(mqtt_raw.disconnect(version=version))
                try:
                    tls.unwrap()
                except ssl.SSLWantReadError:
                    pass
                sock.sendall(out.read())
                time.sleep(0.2)
                sock.close()
                p = sub.read(5)
                self.assertEqual(p.publish_fields()[:2], (topic, b"last words"),
                                 "the PUBLISH sent just before close_notify is delivered")
                # The DISCONNECT was processed too: no will.
                sub.send(mqtt_raw.publish(wt, b"marker"))
                p = sub.read(5)
                self.assertEqual(p.publish_fields()[:2], (wt, b"marker"),
                                 "no will after a DISCONNECT followed by close_notify")
                sub.close()


if __name__ == "__main__":
    harness.main()
