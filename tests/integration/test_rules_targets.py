"""Data rules' NATS and PostgreSQL targets and the NATS inflow (issue 19, docs/rules.md),
each against its real server started here: nats-server with JetStream (scripts/nats.sh)
and a throwaway PostgreSQL (scripts/pg.sh).

- outflow to a JetStream subject: every acknowledged QoS 1 message lands in the stream once
  (Nats-Msg-Id de-duplication), also across a NATS server kill -9 and restart (backlog drained);
- status events to NATS;
- outflow to a PostgreSQL table: one row per message, created table, binary payload intact;
  PostgreSQL down then up: nothing lost;
- inflow: a NATS message published on a subject reaches an MQTT subscriber (P2P included).

Run: SLUICE_BIN=build/sluice /usr/bin/python3 tests/integration/test_rules_targets.py
"""
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# The receivers these tests start listen on loopback, which a tenant's rule may
# not reach by default (common/egress.hpp); the operator's setting allows it.
os.environ.setdefault("SLUICE_RULES_ALLOWED_TARGET_NETWORKS", "127.0.0.0/8")
from auth_harness import MqttClient, TenantTestCase, sign  # noqa: E402

SCRIPTS = os.path.join(harness.SRC, "scripts")
HAVE_NATS = bool(shutil.which("nats-server") or os.path.exists("/usr/sbin/nats-server"))
HAVE_PG = bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


class Nats:
    """One nats-server with JetStream (scripts/nats.sh with N=1)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sluice-rules-nats-")
        r = subprocess.run([os.path.join(SCRIPTS, "nats.sh"), "start", os.path.join(self.dir, "c"), "1"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"nats.sh start failed: {r.stderr}")
        self.url = r.stdout.strip().split(",")[0]
        self.port = int(self.url.rsplit(":", 1)[1])

    def kill(self):
        subprocess.run([os.path.join(SCRIPTS, "nats.sh"), "kill", os.path.join(self.dir, "c"), "1"], timeout=30)

    def start_again(self):
        subprocess.run([os.path.join(SCRIPTS, "nats.sh"), "start-one", os.path.join(self.dir, "c"), "1"],
                       timeout=60, check=True)

    def stop(self):
        subprocess.run([os.path.join(SCRIPTS, "nats.sh"), "stop", os.path.join(self.dir, "c")], timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


class NatsConn:
    """The NATS text protocol over a socket: enough to publish, subscribe and request."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.f = self.s.makefile("rb")
        self.f.readline()  # INFO
        self.s.sendall(b'CONNECT {"verbose":false,"headers":false}\r\nPING\r\n')
        self._until_pong()
        self.sid = 0

    def _until_pong(self):
        while True:
            line = self.f.readline()
            if line.startswith(b"PONG"):
                return
            if not line:
                raise ConnectionError("NATS closed")

    def pub(self, subject, data, reply=None):
        head = f"PUB {subject} {reply + ' ' if reply else ''}{len(data)}\r\n".encode()
        self.s.sendall(head + data + b"\r\n")

    def sub(self, subject):
        self.sid += 1
        self.s.sendall(f"SUB {subject} {self.sid}\r\nPING\r\n".encode())
        self._until_pong()
        return self.sid

    def next_msg(self, timeout=5):
        self.s.settimeout(timeout)
        while True:
            line = self.f.readline()
            if not line:
                raise ConnectionError("NATS closed")
            if line.startswith(b"PING"):
                self.s.sendall(b"PONG\r\n")
                continue
            if line.startswith(b"MSG"):
                parts = line.split()
                n = int(parts[-1])
                data = self.f.read(n + 2)[:n]
                return parts[1].decode(), data

    def request(self, subject, data=b"", timeout=5):
        inbox = f"_INBOX.t{time.monotonic_ns()}"
        self.sub(inbox)
        self.pub(subject, data, reply=inbox)
        return self.next_msg(timeout)[1]

    def close(self):
        self.s.close()


def stream_messages(port, stream):
    return [json.loads(d) for d in stream_data(port, stream)]


def stream_data(port, stream):
    """Each message's data in the stream, as bytes, in order."""
    c = NatsConn(port)
    try:
        info = json.loads(c.request(f"$JS.API.STREAM.INFO.{stream}"))
        n = info.get("state", {}).get("messages", 0)
        out = []
        for seq in range(1, n + 1):
            r = json.loads(c.request(f"$JS.API.STREAM.MSG.GET.{stream}", json.dumps({"seq": seq}).encode()))
            if "message" in r:
                import base64
                out.append(base64.b64decode(r["message"]["data"]))
        return out
    finally:
        c.close()


@unittest.skipUnless(HAVE_NATS, "nats-server not installed")
class NatsTargetTest(TenantTestCase):
    @classmethod
    def setUpClass(cls):
        cls.nats = Nats()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.nats.stop()

    def make(self, name, rtype, ttype, cfg, source=""):
        st, body = self.t.rpc("OnsMqtt", "CreateRule", InstanceId=self.t.instance, RuleName=name, RuleType=rtype,
                              SourceTopic=source, TargetType=ttype, TargetConfig=json.dumps(cfg))
        self.assertEqual(st, 200, body)
        time.sleep(0.3)

    def client(self, device):
        cid = self.t.cid(device)
        c = MqttClient(self.b, cid, self.t.sig_user(self.t.key_id), sign(self.t.secret, cid))
        self.assertTrue(c.connected.is_set(), c.rc)
        return self.track(c)

    def test_outflow_to_jetstream_across_a_nats_crash(self):
        self.make("js", "outflow", "nats", {"Url": self.nats.url, "Subject": "dev.telemetry", "Stream": "TELE"},
                  source="Sensors/t/#")
        pub = self.client("pub-js")
        for i in range(100):
            self.assertTrue(pub.publish("Sensors/t/a", f"n{i}".encode(), qos=1))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(stream_messages(self.nats.port, "TELE")) < 100:
            time.sleep(0.2)
        self.nats.kill()  # NATS down: publishers are not held, the backlog grows
        t0 = time.monotonic()
        for i in range(100, 200):
            self.assertTrue(pub.publish("Sensors/t/a", f"n{i}".encode(), qos=1))
        self.assertLess(time.monotonic() - t0, 10)
        time.sleep(2)
        self.nats.start_again()
        got = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                got = stream_messages(self.nats.port, "TELE")
            except (OSError, ValueError, ConnectionError):
                got = []
            if len(got) >= 200:
                break
            time.sleep(0.5)
        import base64
        payloads = [base64.b64decode(m["payload"]).decode() for m in got]
        self.assertEqual(sorted(set(payloads)), sorted(f"n{i}" for i in range(200)))
        self.assertEqual(len(payloads), 200, "each message once in the stream (Nats-Msg-Id)")

    def test_outflow_batched_to_jetstream(self):
        """Batch: a busy rule's entries go several to a JetStream message, one JSON object a
        line (NDJSON), each line as the entry alone would be; nothing lost, none twice."""
        self.make("jsb", "outflow", "nats", {"Url": self.nats.url, "Subject": "dev.batched", "Stream": "BATCHED",
                                              "Batch": 50}, source="Sensors/b/#")
        pub = self.client("pub-jsb")
        # Twenty in flight at a time: a busy rule. (One at a time would make no
        # backlog to share a message: with the store holding entries for their
        # target, [rules] hold_ms, each PUBACK follows its own delivery.)
        infos = []
        for i in range(300):
            infos.append(pub.c.publish("Sensors/b/a", f"b{i}".encode(), qos=1))
            if len(infos) >= 20:
                infos.pop(0).wait_for_publish(5)
        for info in infos:
            info.wait_for_publish(5)
            self.assertTrue(info.is_published())
        import base64
        lines, data = [], []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            data = stream_data(self.nats.port, "BATCHED")
            lines = [json.loads(x) for d in data for x in d.split(b"\n") if x]
            if len(lines) >= 300:
                break
            time.sleep(0.2)
        self.assertEqual([base64.b64decode(e["payload"]).decode() for e in lines], [f"b{i}" for i in range(300)])
        self.assertEqual([e["seq"] for e in lines], sorted(e["seq"] for e in lines))
        self.assertLess(len(data), 300, "a busy rule's entries share messages")
        self.assertLessEqual(max(d.count(b"\n") for d in data), 50)

    def test_status_events_to_nats(self):
        c = NatsConn(self.nats.port)
        try:
            c.sub("dev.status")
            self.make("st-nats", "status", "nats", {"Url": self.nats.url, "Subject": "dev.status", "Stream": "STATUS"})
            d = self.client("dev-nats")
            d.close()
            seen = []
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(seen) < 3:
                _, data = c.next_msg(10)
                e = json.loads(data)
                if e["clientId"] == self.t.cid("dev-nats"):
                    seen.append(e["eventType"])
            self.assertEqual(seen, ["connect", "disconnect", "tcpclean"])
        finally:
            c.close()

    def test_inflow_from_nats_reaches_devices(self):
        dev = self.t.cid("dev-in")
        self.make("in", "inflow", "nats", {"Url": self.nats.url, "Subject": "cmd.all"}, source="Sensors/cmd")
        self.make("in-p2p", "inflow", "nats", {"Url": self.nats.url, "Subject": "cmd.one"},
                  source=f"Sensors/p2p/{dev}")
        time.sleep(1.0)  # the subscriptions reach NATS
        sub = self.client("dev-in")
        self.assertEqual(sub.subscribe("Sensors/cmd", 1), [1])
        c = NatsConn(self.nats.port)
        try:
            c.pub("cmd.all", b"reboot")
            c.pub("cmd.one", b"just you")
        finally:
            c.close()
        got = sorted([(m.topic, m.payload) for m in (sub.get(5), sub.get(5))])
        self.assertEqual(got, sorted([("Sensors/cmd", b"reboot"), (f"Sensors/p2p/{dev}", b"just you")]))

    def test_zz_inflow_from_a_stream_survives_kill_9(self):
        """A JetStream durable consumer: what NATS got while Sluice was killed -9 and down
        reaches the device after the restart; nothing acknowledged to NATS is lost."""
        topic = "Sensors/jscmd"
        self.make("in-js", "inflow", "nats", {"Url": self.nats.url, "Subject": "cmd.durable", "Stream": "CMDS"},
                  source=topic)
        cid = self.t.cid("dev-js-in")
        user, pw = self.t.sig_user(self.t.key_id), sign(self.t.secret, cid)
        sub = MqttClient(self.b, cid, user, pw, version=4, clean=False)
        self.assertTrue(sub.connected.is_set(), sub.rc)
        self.assertEqual(sub.subscribe(topic, 1), [1])
        sub.close()  # offline: a persistent session keeps what arrives
        c = NatsConn(self.nats.port)
        try:
            deadline = time.monotonic() + 20
            names = []
            while time.monotonic() < deadline:
                names = json.loads(c.request("$JS.API.CONSUMER.NAMES.CMDS")).get("consumers") or []
                if names:
                    break
                time.sleep(0.2)
            self.assertTrue(names, "Sluice made a durable consumer on the stream")
            n = 100
            for i in range(n // 2):
                self.assertIn(b'"seq"', c.request("cmd.durable", f"j{i}".encode()))  # JetStream's ack
            time.sleep(0.3)  # some of them consumed: the kill comes in the middle
            self.b.proc.kill()  # kill -9
            self.b.proc.wait()
            for i in range(n // 2, n):  # Sluice is down: only JetStream has these
                self.assertIn(b'"seq"', c.request("cmd.durable", f"j{i}".encode()))
        finally:
            c.close()
        if self.b._log:
            self.b._log.close()
            self.b._log = None
        if self.b in harness._live:
            harness._live.remove(self.b)
        self.b._start(20)
        sub = self.track(MqttClient(self.b, cid, user, pw, version=4, clean=False))
        self.assertTrue(sub.connected.is_set(), sub.rc)
        got = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(got) < n:
            try:
                m = sub.get(1)
            except Exception:
                continue
            got.add(m.payload.decode())
        self.assertEqual(sorted(set(f"j{i}" for i in range(n)) - got), [], "every message JetStream took")


@unittest.skipUnless(HAVE_PG, "PostgreSQL server not installed")
class PostgresTargetTest(TenantTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pgdir = tempfile.mkdtemp(prefix="sluice-rules-pg-")
        os.rmdir(cls.pgdir)
        env = dict(os.environ, PG_WATCH_PID=str(os.getpid()))
        r = subprocess.run([os.path.join(SCRIPTS, "pg.sh"), "start", cls.pgdir], capture_output=True, text=True,
                           timeout=120, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"pg.sh start failed: {r.stderr}")
        kv = dict(re.findall(r"(\w+)=(\S+)", r.stdout.strip().splitlines()[-1]))
        cls.url = (f"postgresql://{kv['user']}:{kv['password']}@{kv.get('host', '127.0.0.1')}:{kv['port']}/"
                   f"{kv['dbname']}")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        subprocess.run([os.path.join(SCRIPTS, "pg.sh"), "stop", cls.pgdir], capture_output=True, timeout=120)

    def psql(self, sql):
        r = subprocess.run([os.path.join(SCRIPTS, "pg.sh"), "psql", self.pgdir, "-At", "-c", sql],
                           capture_output=True, text=True, timeout=60)
        return r.stdout.strip()

    def test_outflow_to_a_table_across_a_postgres_restart(self):
        st, body = self.t.rpc("OnsMqtt", "CreateRule", InstanceId=self.t.instance, RuleName="archive",
                              RuleType="outflow", SourceTopic="Sensors/pg/#", TargetType="postgres",
                              TargetConfig=json.dumps({"Url": self.url, "Table": "mqtt_archive"}))
        self.assertEqual(st, 200, body)
        self.assertNotIn(self.url.split(":")[2].split("@")[0], json.dumps(body), "the password is masked")
        time.sleep(0.3)
        cid = self.t.cid("pub-pg")
        pub = self.track(MqttClient(self.b, cid, self.t.sig_user(self.t.key_id), sign(self.t.secret, cid)))
        for i in range(50):
            self.assertTrue(pub.publish("Sensors/pg/x", bytes([0, 255, i]), qos=1))
        subprocess.run([os.path.join(SCRIPTS, "pg.sh"), "kill", self.pgdir], capture_output=True, timeout=120)
        for i in range(50, 100):
            self.assertTrue(pub.publish("Sensors/pg/x", bytes([0, 255, i]), qos=1))
        time.sleep(2)
        subprocess.run([os.path.join(SCRIPTS, "pg.sh"), "restart", self.pgdir], capture_output=True, timeout=120)
        deadline = time.monotonic() + 60
        n = ""
        while time.monotonic() < deadline:
            n = self.psql("SELECT count(*) FROM mqtt_archive")
            if n == "100":
                break
            time.sleep(0.5)
        self.assertEqual(n, "100")
        self.assertEqual(self.psql("SELECT count(DISTINCT get_byte(payload, 2)) FROM mqtt_archive "
                                   "WHERE get_byte(payload, 1) = 255"), "100")


if __name__ == "__main__":
    unittest.main(verbosity=2)
