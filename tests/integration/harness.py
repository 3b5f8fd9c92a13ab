"""Start a real broker on free loopback ports for integration tests.

The broker is the sluice binary ($SLUICE_BIN, default) or Debian's mosquitto when
SLUICE_TEST_TARGET=mosquitto (to validate the tests themselves against a known-good
peer). It runs in a fresh temp dir with a freshly generated TLS CA and server
certificate, and is always killed and reaped (context manager + atexit).

    with harness.broker() as b:
        b.mqtt_port, b.mqtts_port, b.ws_port, b.wss_port, b.http_port, b.pid, b.ca_file
"""
import atexit
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HOST = "127.0.0.1"
# Under ASan (the sanitizer build's ctest sets SLUICE_SANITIZED) freed memory sits in
# ASan's quarantine (32 MiB as set below) and every allocation carries shadow memory, so
# resident-memory bounds get this much room; the normal build is held to the real bound.
MEMORY_SLACK_MIB = 320 if os.environ.get("SLUICE_SANITIZED") else 0
if os.environ.get("SLUICE_SANITIZED"):
    # A smaller quarantine keeps what RSS measures close to what the server holds (the
    # default 256 MiB made the slow-subscriber bound flaky); brokers inherit it.
    os.environ.setdefault("ASAN_OPTIONS", "quarantine_size_mb=32")
TARGET = os.environ.get("SLUICE_TEST_TARGET", "sluice").strip().lower() or "sluice"
IS_MOSQUITTO = TARGET == "mosquitto"
MOSQUITTO_BIN = os.environ.get("MOSQUITTO_BIN", "/usr/sbin/mosquitto")
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("SLUICE_SRC") or os.path.dirname(os.path.dirname(HERE))

_live = []  # brokers still running, killed at exit whatever happens


def sluice_bin():
    b = os.environ.get("SLUICE_BIN")
    if b:
        return b
    return os.path.join(SRC, "build", "sluice")


def free_ports(n):
    """n distinct free loopback TCP ports, picked below the kernel's ephemeral range so
    that the tests' own client connections (and their TIME_WAIT) never collide with them."""
    lo, hi = 20000, 32767
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph_lo = int(f.read().split()[0])
        hi = min(hi, eph_lo - 1)
        lo = min(lo, hi - 2000)
    except (OSError, ValueError):
        pass
    ports = []
    while len(ports) < n:
        p = random.randint(lo, hi)
        if p in ports:
            continue
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((HOST, p))
            ports.append(p)
        except OSError:
            pass
        finally:
            s.close()
    return ports


def make_certs(d):
    """A CA and a server cert for 127.0.0.1 / localhost, made with the openssl CLI."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Sluice Test CA")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "basicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    return (os.path.join(d, "ca.pem"), os.path.join(d, "server.pem"),
            os.path.join(d, "server.key"))


_HELP = {}


def _host_args(binary):
    """Bind to loopback only, where the binary has --host (tests must not listen outside)."""
    if binary not in _HELP:
        try:
            _HELP[binary] = subprocess.run([binary, "serve", "--help"], capture_output=True,
                                           text=True, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            _HELP[binary] = ""
    return ["--host", HOST] if "--host" in _HELP[binary] else []


def wait_for(pred, timeout, step=0.05):
    """Polls pred() until it is true or `timeout` seconds pass; its last answer."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def port_open(port, host=HOST):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Broker:
    """One broker process. Use as a context manager (or start()/stop())."""

    def __init__(self, threads=2, extra_args=(), mosquitto_conf_extra="", nofile=None):
        self.nofile = nofile  # the broker's open-file limit (soft and hard), if set
        self.target = TARGET
        self.is_mosquitto = IS_MOSQUITTO
        self.host = HOST
        self.threads = threads
        self.extra_args = list(extra_args)
        self.mosquitto_conf_extra = mosquitto_conf_extra
        self.proc = None
        self.dir = None
        self.log_path = None
        self._log = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, timeout=20.0, attempts=3):
        """Start; a port taken between picking and binding gets a retry on new ports."""
        for i in range(attempts):
            try:
                return self._start(timeout)
            except RuntimeError as e:
                if i == attempts - 1 or "before listening" not in str(e):
                    raise
                sys.stderr.write(f"harness: broker start failed, retrying: {e}\n")

    def _start(self, timeout):
        self.dir = tempfile.mkdtemp(prefix="sluice-it-")
        self.data_dir = os.path.join(self.dir, "data")
        os.makedirs(self.data_dir)
        self.ca_file, self.cert_file, self.key_file = make_certs(self.dir)
        (self.mqtt_port, self.mqtts_port, self.ws_port, self.wss_port,
         self.http_port) = free_ports(5)
        if self.is_mosquitto:
            cmd = self._mosquitto_cmd()
        else:
            binary = sluice_bin()
            if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
                raise RuntimeError(f"sluice binary not found: {binary} (set SLUICE_BIN, "
                                   "or SLUICE_TEST_TARGET=mosquitto)")
            cmd = [binary, "serve", "--data-dir", self.data_dir,
                   "--mqtt-port", str(self.mqtt_port), "--mqtts-port", str(self.mqtts_port),
                   "--ws-port", str(self.ws_port), "--wss-port", str(self.wss_port),
                   "--http-port", str(self.http_port), "--threads", str(self.threads),
                   "--allow-anonymous", "--tls-cert", self.cert_file,
                   "--tls-key", self.key_file, *_host_args(binary), *self.extra_args]
        self.cmd = cmd
        self.log_path = os.path.join(self.dir, "broker.log")
        return self._launch(timeout, cleanup_on_fail=True)

    def _launch(self, timeout, cleanup_on_fail):
        cmd = self.cmd
        self._log = open(self.log_path, "ab")
        limit = None
        if self.nofile:
            import resource
            n = self.nofile

            def limit():
                resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=self.dir,
                                     start_new_session=True, preexec_fn=limit)
        if self not in _live:
            _live.append(self)
        ports = [self.mqtt_port, self.mqtts_port, self.ws_port, self.wss_port]
        if not self.is_mosquitto:
            ports.append(self.http_port)
        deadline = time.monotonic() + timeout
        pending = list(ports)
        while pending:
            if self.proc.poll() is not None:
                log = self.log_tail()
                if cleanup_on_fail:
                    self.stop()
                raise RuntimeError(f"broker exited with {self.proc.returncode} before "
                                   f"listening: {' '.join(cmd)}\n{log}")
            if time.monotonic() > deadline:
                log = self.log_tail()
                if cleanup_on_fail:
                    self.stop()
                raise RuntimeError(f"broker not listening on {pending} after {timeout}s\n{log}")
            if port_open(pending[0]):
                pending.pop(0)
            else:
                time.sleep(0.05)
        return self

    def restart(self, timeout=20.0):
        """Stop the broker as an operator does (SIGTERM), then start it again on the same data
        dir and ports."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"broker still running 15 s after SIGTERM:\n{self.log_tail()}") from None
        if self._log:
            self._log.close()
            self._log = None
        return self._launch(timeout, cleanup_on_fail=False)

    def crash_and_restart(self, timeout=20.0):
        """kill -9 the broker, then start it again on the same data dir and ports."""
        self.proc.kill()
        self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None
        return self._launch(timeout, cleanup_on_fail=False)

    def _mosquitto_cmd(self):
        conf = os.path.join(self.dir, "mosquitto.conf")
        persist = self.data_dir + "/"
        with open(conf, "w") as f:
            # as root, mosquitto would drop to user "mosquitto", who cannot read the 0700 temp dir
            user = "user root\n" if os.geteuid() == 0 else ""
            f.write(f"""{user}per_listener_settings false
allow_anonymous true
persistence false
persistence_location {persist}
log_dest stdout
log_type error
log_type warning
log_type notice
max_packet_size 1048576
max_queued_messages 1000
max_keepalive 65535
listener {self.mqtt_port} {HOST}
listener {self.mqtts_port} {HOST}
certfile {self.cert_file}
keyfile {self.key_file}
listener {self.ws_port} {HOST}
protocol websockets
listener {self.wss_port} {HOST}
protocol websockets
certfile {self.cert_file}
keyfile {self.key_file}
{self.mosquitto_conf_extra}
""")
        return [MOSQUITTO_BIN, "-c", conf]

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Stop the broker (SIGTERM, then SIGKILL) and reap it. Returns the exit code."""
        p = self.proc
        rc = None
        if p is not None:
            if p.poll() is None:
                try:
                    p.send_signal(sig)
                    rc = p.wait(timeout)
                except subprocess.TimeoutExpired:
                    p.kill()
                    rc = p.wait()
                except ProcessLookupError:
                    rc = p.wait()
            else:
                rc = p.returncode
        if self._log:
            self._log.close()
            self._log = None
        if self in _live:
            _live.remove(self)
        if self.dir and os.environ.get("SLUICE_TEST_KEEP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- inspection --------------------------------------------------------------------
    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kb(self):
        """Resident set size of the broker process in KiB (VmRSS)."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
            return data[-n:].decode("utf-8", "replace")
        except (OSError, TypeError):
            return ""

    def metrics_text(self):
        import urllib.request
        with urllib.request.urlopen(f"http://{HOST}:{self.http_port}/metrics", timeout=5) as r:
            return r.read().decode()

    def metric(self, name):
        """The value of an unlabelled /metrics line `name`, as an int; KeyError if absent."""
        for line in self.metrics_text().splitlines():
            if line.startswith(name + " "):
                return int(line.split()[1])
        raise KeyError(name)

    def port(self, transport):
        return {"tcp": self.mqtt_port, "tls": self.mqtts_port, "ws": self.ws_port,
                "wss": self.wss_port}[transport]


def broker(**kw):
    return Broker(**kw)


def _kill_all():
    for b in list(_live):
        try:
            if b.proc and b.proc.poll() is None:
                b.proc.kill()
                b.proc.wait(5)
        except Exception:
            pass
        b.stop()


atexit.register(_kill_all)


def _on_term(signum, frame):
    _kill_all()
    sys.exit(128 + signum)


# ctest kills a timed-out test with SIGTERM/SIGKILL; make SIGTERM reap the broker too.
signal.signal(signal.SIGTERM, _on_term)


def skip_on_mosquitto(reason="sluice-specific"):
    return unittest.skipIf(IS_MOSQUITTO, reason)


def main():
    """unittest.main with a verbose runner; exits non-zero on any failure."""
    unittest.main(verbosity=2)
