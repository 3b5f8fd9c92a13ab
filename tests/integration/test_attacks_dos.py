#!/usr/bin/python3
"""The standing attack suite, denial of service without credentials (issue #14, item 8) and
the modes of the data files (item 13).

Loopback has all of 127.0.0.0/8, so an attacker here is a source address of its own
(127.0.0.2 and up) and the victim is a client from 127.0.0.1:

- an attacker holding a thousand MQTT sockets that never send CONNECT and a thousand idle
  HTTP connections, against a server with a small descriptor limit, must not stop a client
  from connecting over MQTT, calling the API and getting /healthz;
- HTTP idle, header and request deadlines hold against bytes trickled to keep them open;
- an attacker spread over many addresses, each under its per-source caps, fills the server:
  a newcomer still gets in, at the expense of the connection that has waited longest
  without proving anything, never of an established client;
- a flood of malformed requests adds a bounded number of audit rows that still count
  every refused request;
- the data directory is 0700 and every file in it 0600, including ones left 0644 by an
  older version, and an existing directory that cannot be tightened is no reason to fail.
"""
import json
import os
import pwd
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from auth_harness import AuthBroker, MqttClient, Tenant, sign  # noqa: E402
from mqtt_raw import CONNACK, PINGRESP, connect, packet  # noqa: E402

HOST = harness.HOST


def raise_own_nofile(want):
    """The test itself holds a few thousand sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Held:
    """Sockets an attacker holds open from one or more source addresses."""

    def __init__(self):
        self.socks = []

    def open(self, port, n, sources, first_bytes=b""):
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(3)
            s.bind((sources[i % len(sources)], 0))
            try:
                s.connect((HOST, port))
                if first_bytes:
                    s.sendall(first_bytes)
            except OSError:
                s.close()  # refused before or while connecting: counts as closed by the server
                continue
            self.socks.append(s)
        return self

    def closed_by_server(self):
        """(closed, of which answered 429 / 503) among the held sockets, without waiting."""
        closed = answered = 0
        for s in self.socks:
            s.setblocking(False)
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue  # still open
            except OSError:
                closed += 1
                continue
            closed += 1  # data then EOF, or EOF
            if data.startswith(b"HTTP/1.1 429") or data.startswith(b"HTTP/1.1 503"):
                answered += 1
        return closed, answered

    def close(self):
        for s in self.socks:
            s.close()
        self.socks = []


def healthz(port, timeout=5):
    with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=timeout) as r:
        return r.status, r.read()


def metric(b, name):
    for line in b.metrics_text().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def read_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def toml_file(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    f.write(text)
    f.close()
    return f.name


@harness.skip_on_mosquitto("sluice's connection budgets")
class IdleSocketFloodTest(unittest.TestCase):
    """One address holding MQTT sockets without CONNECT and idle HTTP connections, with
    every limit at its default, against a broker with 1024 descriptors: before the fix
    the MQTT sockets filled max_connections and the HTTP ones took the remaining
    descriptors, so neither MQTT nor /healthz answered anyone."""
    NOFILE = 1024
    MQTT_SOCKETS = 1000
    HTTP_SOCKETS = 1200

    def test_one_address_cannot_lock_others_out(self):
        want = self.MQTT_SOCKETS + self.HTTP_SOCKETS + 512
        if raise_own_nofile(want) < want:
            self.skipTest(f"the test needs {want} open files (hard limit {resource.getrlimit(resource.RLIMIT_NOFILE)[1]})")
        b = AuthBroker(nofile=self.NOFILE)
        b.prepare()
        t = Tenant(b, "acme")
        b.start()
        mqtt_held, http_held, clients = Held(), Held(), []
        # Paho waits in select(), which cannot watch a descriptor above 1023: keep low
        # numbers free for the victim's clients while the attacker's sockets take the rest.
        low = [os.open("/dev/null", os.O_RDONLY) for _ in range(64)]
        try:
            t0 = time.monotonic()
            mqtt_held.open(b.mqtt_port, self.MQTT_SOCKETS, ["127.0.0.2"])
            http_held.open(b.http_port, self.HTTP_SOCKETS, ["127.0.0.2"])
            opened = time.monotonic() - t0
            time.sleep(0.5)
            for fd in low:
                os.close(fd)
            low = []

            # While the attacker holds all of that, 127.0.0.1 is served.
            cid = t.cid("victim")
            sub = MqttClient(b, cid, t.sig_user(t.key_id), sign(t.secret, cid))
            clients.append(sub)
            self.assertEqual(sub.rc, 0, "MQTT CONNECT from another address\n" + b.log_tail())
            self.assertEqual(sub.subscribe("Sensors/#"), [1])
            pid = t.cid("victim-pub")
            pub = MqttClient(b, pid, t.sig_user(t.key_id), sign(t.secret, pid))
            clients.append(pub)
            self.assertEqual(pub.rc, 0)
            self.assertTrue(pub.publish("Sensors/x", b"still here"))
            self.assertEqual(sub.get().payload, b"still here")
            status, body = t.rpc("OnsMqtt", "ListInstances")
            self.assertEqual(status, 200, body)
            self.assertEqual(healthz(b.http_port), (200, b"ok\n"))

            # The attacker kept only its per-source shares: 128 MQTT sockets without
            # CONNECT, 64 HTTP connections; the rest were closed at accept, HTTP ones with 429.
            m_closed, _ = mqtt_held.closed_by_server()
            h_closed, h_429 = http_held.closed_by_server()
            self.assertGreaterEqual(m_closed, self.MQTT_SOCKETS - 128)
            self.assertGreaterEqual(h_closed, self.HTTP_SOCKETS - 64)
            self.assertGreaterEqual(h_429, self.HTTP_SOCKETS - 64 - 10, "refused with 429 Throttling.Connections")
            self.assertLessEqual(metric(b, "sluice_connections"), 128 + 2)
            log = b.log_tail(20000)
            self.assertIn("max_pending_connects_per_source", log)
            self.assertIn("max_connections_per_source", log)
            sys.stderr.write(f"\n  attacker opened {self.MQTT_SOCKETS} MQTT + {self.HTTP_SOCKETS} HTTP sockets "
                             f"in {opened:.1f} s; closed by the server: MQTT {m_closed}, HTTP {h_closed} "
                             f"({h_429} with 429)\n")
            self.assertTrue(b.alive())
        finally:
            for fd in low:
                os.close(fd)
            for c in clients:
                c.close()
            mqtt_held.close()
            http_held.close()
            b.stop()


@harness.skip_on_mosquitto("sluice's HTTP deadlines")
class HttpDeadlinesTest(unittest.TestCase):
    """Idle, header and request deadlines are each one timer: bytes trickled to keep a
    connection open do not extend them (before: one 30 s deadline per request)."""

    def test_trickled_bytes_do_not_extend_the_deadlines(self):
        conf = toml_file("[http]\nidle_timeout_s = 2\nheader_timeout_s = 2\nrequest_timeout_s = 4\n")
        b = harness.Broker(extra_args=["--config", conf]).start()
        results = {}

        def until_closed(name, s, drip, started):
            """Sends a drip byte every 0.25 s until the server closes; seconds since `started`."""
            s.settimeout(0.25)
            deadline = started + 15
            while time.monotonic() < deadline:
                try:
                    data = s.recv(4096)
                    if data == b"":
                        break
                except socket.timeout:
                    pass
                except OSError:
                    break
                if drip:
                    try:
                        s.sendall(drip)
                    except OSError:
                        break
            results[name] = time.monotonic() - started
            s.close()

        def idle():
            s = socket.create_connection((HOST, b.http_port))
            until_closed("idle", s, b"", time.monotonic())

        def slow_head():
            s = socket.create_connection((HOST, b.http_port))
            started = time.monotonic()
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            until_closed("slow head", s, b"X-Drip: 1\r\n", started)

        def slow_body():
            s = socket.create_connection((HOST, b.http_port))
            started = time.monotonic()
            s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
            until_closed("slow body", s, b"a", started)

        def kept_alive():
            s = socket.create_connection((HOST, b.http_port))
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            s.settimeout(5)
            got = b""
            while b"ok\n" not in got:
                got += s.recv(4096)
            until_closed("kept alive", s, b"", time.monotonic())

        try:
            threads = [threading.Thread(target=f) for f in (idle, slow_head, slow_body, kept_alive)]
            for th in threads:
                th.start()
            for th in threads:
                th.join(30)
            sys.stderr.write(f"\n  closed after (s): { {k: round(v, 2) for k, v in results.items()} }\n")
            self.assertEqual(len(results), 4, results)
            for name in ("idle", "slow head", "kept alive"):
                self.assertGreater(results[name], 1.5, name)
                self.assertLess(results[name], 4.0, f"{name}: the 2 s deadline did not hold")
            self.assertGreater(results["slow body"], 3.5)
            self.assertLess(results["slow body"], 6.0, "slow body: the 4 s request deadline did not hold")
            self.assertEqual(healthz(b.http_port), (200, b"ok\n"))
        finally:
            b.stop()
            os.unlink(conf)


@harness.skip_on_mosquitto("sluice's connection budgets")
class SpreadOutAttackerTest(unittest.TestCase):
    """An attacker on 20 addresses, each within its per-source caps, fills max_connections
    (MQTT) and max_connections (HTTP). A newcomer still gets in: the connection that has
    waited longest without CONNECT (MQTT) or without a request (HTTP) makes room.
    Established MQTT clients are never the ones to go."""
    SOURCES = [f"127.0.0.{i}" for i in range(10, 30)]

    def test_full_server_makes_room_for_a_newcomer(self):
        if raise_own_nofile(1024) < 1024:
            self.skipTest("the test needs 1024 open files")
        conf = toml_file("[mqtt]\nmax_connections = 200\nmax_pending_connects_per_source = 20\n"
                         "[http]\nmax_connections = 60\nmax_connections_per_source = 10\n")
        b = harness.Broker(extra_args=["--config", conf]).start()
        mqtt_held, http_held = Held(), Held()
        try:
            # The harness's readiness probes (a connect and close on each MQTT port) hold a
            # slot until the loop reads their end; one still open would take an attacker's
            # place, then leave and make room for the newcomer by itself.
            deadline = time.monotonic() + 5
            while b.metric("sluice_connections") != 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            established = socket.create_connection((HOST, b.mqtt_port), timeout=5)
            established.sendall(connect("established", version=4))
            self.assertEqual(established.recv(64)[0] >> 4, CONNACK)

            mqtt_held.open(b.mqtt_port, 20 * len(self.SOURCES), self.SOURCES)
            http_held.open(b.http_port, 10 * len(self.SOURCES), self.SOURCES)
            time.sleep(0.3)
            m_closed0, _ = mqtt_held.closed_by_server()
            h_closed0, h_answered = http_held.closed_by_server()
            self.assertGreaterEqual(m_closed0, 20 * len(self.SOURCES) - 199, "the server was full")
            self.assertGreaterEqual(h_closed0, 10 * len(self.SOURCES) - 60, "HTTP was full")
            self.assertGreater(h_answered, 0, "refused with 503 ServiceUnavailable")

            time.sleep(2.2)  # the oldest pending ones have had their grace (2 s MQTT, 1 s HTTP)
            s = socket.create_connection((HOST, b.mqtt_port), timeout=5)
            s.sendall(connect("newcomer", version=4))
            self.assertEqual(s.recv(64)[0] >> 4, CONNACK, "a newcomer to a full server gets in")
            s.close()
            self.assertEqual(healthz(b.http_port), (200, b"ok\n"))
            m_closed1, _ = mqtt_held.closed_by_server()
            h_closed1, _ = http_held.closed_by_server()
            self.assertGreater(m_closed1, m_closed0, "an attacker's socket without CONNECT made room")
            self.assertGreater(h_closed1, h_closed0, "an attacker's idle HTTP connection made room")

            established.sendall(packet(0xC0, b""))
            self.assertEqual(established.recv(16)[0] >> 4, PINGRESP, "established clients are never shed")
            established.close()
            self.assertIn("closed to make room", b.log_tail(20000))
            self.assertTrue(b.alive())
        finally:
            mqtt_held.close()
            http_held.close()
            b.stop()
            os.unlink(conf)


def export_all(b):
    out = b.admin("audit", "export")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def counted(rows):
    """Refusals the rows stand for: 1 for a row of its own, Count for a summary."""
    return sum(r["RequestParameters"]["Count"] if r["RequestParameters"].get("Aggregated") else 1 for r in rows)


def db_bytes(data_dir):
    return sum(os.path.getsize(os.path.join(data_dir, f)) for f in ("sluice.db", "sluice.db-wal")
               if os.path.exists(os.path.join(data_dir, f)))


@harness.skip_on_mosquitto("sluice's audit log")
class MalformedFloodAuditTest(unittest.TestCase):
    """2,000 malformed requests and 500 unsigned API calls with 4 KiB of junk each, from
    one address: before, one audit row each (67,521 rows in 10 s grew sluice.db by 11 MB
    in the attack); now one row per source and reason per window (2 s here) plus one with
    the count, the counts add up to every request, and the junk is not stored."""
    N = 2000
    N_UNSIGNED = 500
    WINDOW_S = 2

    def test_audit_rows_are_bounded_and_count_everything(self):
        b = AuthBroker(env={"SLUICE_HTTP_REFUSED_AUDIT_WINDOW_S": str(self.WINDOW_S)})
        b.prepare()
        b.start()
        try:
            time.sleep(1.0)  # bootstrap writes settled
            size0 = db_bytes(b.data_dir)
            t0 = time.monotonic()
            for _ in range(self.N):
                s = socket.socket()
                s.bind(("127.0.0.2", 0))
                s.connect((HOST, b.http_port))
                s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
                s.settimeout(5)
                data = s.recv(4096)
                self.assertTrue(data.startswith(b"HTTP/1.1 400"), data[:80])
                s.close()
            # Well-formed but unsigned calls, each carrying 4 KiB of junk: nobody is
            # identified either (before: a row each, the junk included).
            junk = "j" * 4096
            for _ in range(self.N_UNSIGNED):
                s = socket.socket()
                s.bind(("127.0.0.2", 0))
                s.connect((HOST, b.http_port))
                s.sendall(f"GET /?Action=ListUsers&Version=2015-05-01&Junk={junk} HTTP/1.1\r\nHost: x\r\n"
                          "Connection: close\r\n\r\n".encode())
                s.settimeout(5)
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                self.assertIn(b"MissingAccessKeyId", data)
                s.close()
            flood_s = time.monotonic() - t0
            other = socket.socket()
            other.bind(("127.0.0.3", 0))
            other.connect((HOST, b.http_port))
            other.sendall(b"\x16\x03\x01 TLS on the HTTP port\r\n\r\n")
            other.settimeout(5)
            other.recv(4096)
            other.close()
            time.sleep(self.WINDOW_S + 1.0)  # every window ended and was written
            growth = db_bytes(b.data_dir) - size0
            rows = export_all(b)
            refused = [r for r in rows if r["SourceIpAddress"] == "127.0.0.2" and r["ErrorCode"] == "BadRequest"]
            unsigned = [r for r in rows if r["SourceIpAddress"] == "127.0.0.2" and
                        r["ErrorCode"] == "MissingAccessKeyId"]
            sys.stderr.write(f"\n  {self.N} malformed + {self.N_UNSIGNED} unsigned requests in {flood_s:.1f} s: "
                             f"{len(refused)} + {len(unsigned)} audit rows, sluice.db + wal grew "
                             f"{growth / 1024:.0f} KiB\n")
            self.assertEqual(counted(refused), self.N, "every refused request is counted")
            self.assertEqual(counted(unsigned), self.N_UNSIGNED, "every unsigned call is counted")
            windows = int(flood_s / self.WINDOW_S) + 2
            self.assertLessEqual(len(refused), 2 * windows, "at most two rows per window")
            self.assertLessEqual(len(unsigned), 2 * windows, "at most two rows per window")
            self.assertTrue(all(r["EventName"] == "RefusedRequest" and r["HttpStatus"] == 400 for r in refused))
            self.assertTrue(all(len(json.dumps(r["RequestParameters"])) < 2100 for r in unsigned),
                            "an unidentified caller's parameters are cut")
            self.assertEqual(len([r for r in rows if r["SourceIpAddress"] == "127.0.0.3"]), 1,
                             "another address is recorded on its own")
            self.assertLess(growth, 256 * 1024, "the audit db stays small under the flood")
            self.assertEqual(healthz(b.http_port), (200, b"ok\n"))
        finally:
            b.stop()


PRIVATE_FILES = ("sluice.db", "sluice.db-wal", "sluice.db-shm", "broker.db", "broker.db-wal", "broker.db-shm",
                 "master.key", "initial-credentials.json")


@harness.skip_on_mosquitto("sluice's data files")
class DataFileModesTest(unittest.TestCase):
    """Before: sluice.db, broker.db and their -wal/-shm (message payloads in plain text)
    were 0644, and a data dir that existed before the first start stayed 0755."""

    def modes(self, d):
        return {f: os.stat(os.path.join(d, f)).st_mode & 0o777 for f in PRIVATE_FILES
                if os.path.exists(os.path.join(d, f))}

    def test_data_dir_0700_files_0600_also_ones_left_open_before(self):
        b = AuthBroker()
        b.prepare()  # the data dir exists before the first start ...
        os.chmod(b.data_dir, 0o755)  # ... as a package or an operator made it
        b.start()
        keep = os.environ.get("SLUICE_TEST_KEEP")
        try:
            time.sleep(0.5)  # the stores have written their first transactions (WAL and shm exist)
            d = b.data_dir
            self.assertEqual(os.stat(d).st_mode & 0o777, 0o700, "data dir tightened at start")
            modes = self.modes(d)
            self.assertEqual(set(modes), set(PRIVATE_FILES), f"expected files: {sorted(modes)}")
            self.assertEqual({f: m for f, m in modes.items() if m != 0o600}, {}, "all 0600")
            self.assertIn("had mode 0755", b.log_tail(20000))

            # Files an older version left 0644 in a 0755 dir are tightened at the next start.
            os.environ["SLUICE_TEST_KEEP"] = "1"
            b.stop()
            os.chmod(d, 0o755)
            for f in PRIVATE_FILES:
                if os.path.exists(os.path.join(d, f)):
                    os.chmod(os.path.join(d, f), 0o644)
            b.start()
            self.assertEqual(os.stat(d).st_mode & 0o777, 0o700)
            self.assertEqual({f: m for f, m in self.modes(d).items() if m != 0o600}, {}, "all tightened to 0600")
            self.assertIn("tightened to mode 0600", b.log_tail(20000))
            self.assertTrue(b.alive())
        finally:
            if keep is None:
                os.environ.pop("SLUICE_TEST_KEEP", None)
            else:
                os.environ["SLUICE_TEST_KEEP"] = keep
            b.stop()
            if b.dir:
                shutil.rmtree(b.dir, ignore_errors=True)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to run the server as another user")
    def test_a_dir_that_cannot_be_tightened_is_no_reason_to_fail(self):
        nobody = pwd.getpwnam("nobody")
        top = tempfile.mkdtemp(prefix="sluice-modes-")
        try:
            parent = os.path.join(top, "readonly-parent")
            os.makedirs(parent)
            cases = {
                # the server's own dir under a parent it cannot write: tightened
                "own": (os.path.join(parent, "own"), nobody.pw_uid, 0o755, 0o700),
                # a dir it may write but does not own: cannot be tightened, still used
                "shared": (os.path.join(parent, "shared"), 0, 0o777, 0o777),
            }
            for path, uid, mode, _ in cases.values():
                os.makedirs(path)
                os.chown(path, uid, nobody.pw_gid)
                os.chmod(path, mode)
            os.chmod(parent, 0o555)
            os.chmod(top, 0o755)
            for name, (path, _, _, want) in cases.items():
                mqtt_port, http_port = harness.free_ports(2)
                log_path = os.path.join(top, f"{name}.log")

                def as_nobody():
                    os.setgid(nobody.pw_gid)
                    os.setgroups([])
                    os.setuid(nobody.pw_uid)

                with open(log_path, "wb") as log:
                    p = subprocess.Popen([harness.sluice_bin(), "serve", "--allow-anonymous", "--data-dir", path,
                                          "--host", HOST, "--mqtt-port", str(mqtt_port), "--http-port",
                                          str(http_port)], stdout=log, stderr=subprocess.STDOUT, cwd=top,
                                         preexec_fn=as_nobody, start_new_session=True)
                try:
                    deadline = time.monotonic() + 20
                    while not harness.port_open(mqtt_port) and time.monotonic() < deadline:
                        self.assertIsNone(p.poll(), read_text(log_path))
                        time.sleep(0.05)
                    self.assertTrue(harness.port_open(mqtt_port), read_text(log_path))
                    self.assertEqual(os.stat(path).st_mode & 0o777, want, name)
                    for f in ("broker.db", "broker.db-wal", "broker.db-shm"):
                        self.assertEqual(os.stat(os.path.join(path, f)).st_mode & 0o777, 0o600, f"{name}: {f}")
                    text = read_text(log_path)
                    if name == "shared":
                        self.assertIn("cannot be tightened", text)
                finally:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(10)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
        finally:
            os.chmod(os.path.join(top, "readonly-parent"), 0o755)
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
