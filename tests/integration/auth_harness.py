"""Helpers for the authentication end-to-end tests (test_auth_*.py).

AuthBroker is harness.Broker without --allow-anonymous: state is set up with
`sluice admin --data-dir DIR ...` before start (prepare()) or while it runs.
MqttClient is a small Paho wrapper that takes a username and password and
records the CONNACK / SUBACK / PUBACK reason codes and disconnects.
"""
import base64
import hashlib
import hmac
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

import paho.mqtt.client as mqtt

import harness

HOST = harness.HOST


def sign(secret, client_id):
    """Base64(HMAC-SHA1(secret, client id)): Signature / DeviceCredential / SIGNED password."""
    mac = hmac.new(secret.encode(), client_id.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


API_VERSIONS = {"Ram": "2015-05-01", "OnsMqtt": "2020-04-20", "ResourceManager": "2020-03-31",
                "Sts": "2015-04-01", "Ons": "2019-02-14", "Actiontrail": "2020-07-06"}


def _pct(s):
    return urllib.parse.quote(str(s), safe="-_.~")


def rpc(b, key_id, secret, product, action, **params):
    """A management API call signed with signature V1 (as @alicloud/pop-core signs it),
    POSTed as a form. Returns (HTTP status, parsed JSON body)."""
    p = {"Action": action, "Version": API_VERSIONS[product], "Format": "JSON", "AccessKeyId": key_id,
         "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex,
         "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    p.update({k: str(v) for k, v in params.items()})
    canon = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(p.items()))
    mac = hmac.new((secret + "&").encode(), ("POST&%2F&" + _pct(canon)).encode(), hashlib.sha1).digest()
    p["Signature"] = base64.b64encode(mac).decode()
    req = urllib.request.Request(f"http://{HOST}:{b.http_port}/", data=urllib.parse.urlencode(p).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class AuthBroker(harness.Broker):
    """A sluice broker that requires authentication. Call prepare(), set up state
    with admin(), then start(). env: extra environment for the server."""

    def __init__(self, env=None, **kw):
        super().__init__(**kw)
        self.env = dict(env or {})
        self.prepared = False

    def prepare(self):
        self.dir = tempfile.mkdtemp(prefix="sluice-auth-")
        self.data_dir = os.path.join(self.dir, "data")
        os.makedirs(self.data_dir)
        self.ca_file, self.cert_file, self.key_file = harness.make_certs(self.dir)
        self.prepared = True
        return self

    def admin(self, *args, check=True):
        """Runs `sluice admin --data-dir DIR args...`; returns stdout (stripped)."""
        env = dict(os.environ, **self.env)
        r = subprocess.run([harness.sluice_bin(), "admin", "--data-dir", self.data_dir, *args],
                           capture_output=True, text=True, timeout=60, env=env)
        if check and r.returncode != 0:
            raise RuntimeError(f"admin {' '.join(args)} failed ({r.returncode}): {r.stderr}")
        return r.stdout.strip() if check else r

    def _start(self, timeout):
        if not self.prepared:
            self.prepare()
        (self.mqtt_port, self.mqtts_port, self.ws_port, self.wss_port,
         self.http_port) = harness.free_ports(5)
        binary = harness.sluice_bin()
        cmd = [binary, "serve", "--data-dir", self.data_dir,
               "--mqtt-port", str(self.mqtt_port), "--mqtts-port", str(self.mqtts_port),
               "--ws-port", str(self.ws_port), "--wss-port", str(self.wss_port),
               "--http-port", str(self.http_port), "--threads", str(self.threads),
               "--tls-cert", self.cert_file, "--tls-key", self.key_file,
               *harness._host_args(binary), *self.extra_args]
        self.cmd = cmd
        self.log_path = os.path.join(self.dir, "broker.log")
        self._log = open(self.log_path, "ab")
        env = dict(os.environ, **self.env)
        limit = None
        if self.nofile:  # the server's open-file limit (soft and hard), as harness.Broker sets it
            import resource
            n = self.nofile

            def limit():
                resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=self.dir, env=env,
                                     start_new_session=True, preexec_fn=limit)
        harness._live.append(self)
        deadline = time.monotonic() + timeout
        pending = [self.mqtt_port, self.mqtts_port, self.ws_port, self.wss_port, self.http_port]
        while pending:
            if self.proc.poll() is not None:
                log = self.log_tail()
                raise RuntimeError(f"broker exited with {self.proc.returncode} before "
                                   f"listening: {' '.join(cmd)}\n{log}")
            if time.monotonic() > deadline:
                log = self.log_tail()
                self.stop()
                raise RuntimeError(f"broker not listening on {pending} after {timeout}s\n{log}")
            if harness.port_open(pending[0]):
                pending.pop(0)
            else:
                time.sleep(0.05)
        return self

    def restart(self):
        """Stops the process but keeps the data dir, then starts again."""
        keep = os.environ.get("SLUICE_TEST_KEEP")
        os.environ["SLUICE_TEST_KEEP"] = "1"
        try:
            super().stop()
        finally:
            if keep is None:
                del os.environ["SLUICE_TEST_KEEP"]
            else:
                os.environ["SLUICE_TEST_KEEP"] = keep
        return self.start()


class Tenant:
    """An account with mq activated, one instance, a parent topic, a group and a root key."""

    def __init__(self, b, alias, topic="Sensors", group="GID_dev", instance_args=()):
        self.b = b
        self.alias = alias
        self.account = b.admin("account", "create", "--login", f"{alias}@example.com", "--alias", alias,
                               "--password", "password-123")
        b.admin("service", "activate", "--account", alias)
        self.instance = b.admin("instance", "create", "--account", alias, "--name", f"{alias}-inst",
                                *instance_args)
        self.topic, self.group = topic, group
        b.admin("topic", "create", "--account", alias, "--instance", self.instance, "--topic", topic)
        b.admin("mq-group", "create", "--account", alias, "--instance", self.instance, "--group", group)
        self.key_id, self.secret = self.key()

    def key(self, user=None):
        out = self.b.admin("key", "create", "--account", self.alias, *(["--user", user] if user else []))
        kv = dict(line.split(":", 1) for line in out.splitlines() if ":" in line and "(" not in line)
        return kv["AccessKeyId"].strip(), kv["AccessKeySecret"].strip()

    def user(self, name, *policies):
        self.b.admin("user", "create", "--account", self.alias, "--name", name)
        for p in policies:
            self.b.admin("attach", "--account", self.alias, "--principal", f"user:{name}", "--policy", p)
        return self.key(name)

    def sig_user(self, key_id):
        return f"Signature|{key_id}|{self.instance}"

    def cid(self, device):
        return f"{self.group}@@@{device}"

    def rpc(self, product, action, key_id=None, secret=None, **params):
        """A signed API call with this tenant's root key (or the given one)."""
        return rpc(self.b, key_id or self.key_id, secret or self.secret, product, action, **params)


class MqttClient:
    """Connects on construction (wait for CONNACK); messages land in a queue."""

    def __init__(self, b, client_id, username=None, password=None, version=5, transport="tcp",
                 timeout=5.0, clean=True, will=None, properties=None):
        self.version = version
        proto = mqtt.MQTTv5 if version == 5 else mqtt.MQTTv311
        tr = "websockets" if transport in ("ws", "wss") else "tcp"
        if version == 5:
            self.c = mqtt.Client(client_id, protocol=proto, transport=tr)
        else:
            self.c = mqtt.Client(client_id, clean_session=clean, protocol=proto, transport=tr)
        if tr == "websockets":
            self.c.ws_set_options(path="/mqtt")
        if transport in ("tls", "wss"):
            self.c.tls_set(ca_certs=b.ca_file)
        if username is not None:
            self.c.username_pw_set(username, password)
        if will:  # dict(topic=, payload=, qos=, retain=, properties=)
            self.c.will_set(**will)
        self.messages = queue.Queue()
        self.connected = threading.Event()
        self.done = threading.Event()  # CONNACK received (either way)
        self.disconnected = threading.Event()
        self.rc = None
        self.session_present = None
        self.disconnect_rc = None
        self.acks = {}
        self.ack_events = {}
        self._lock = threading.Lock()
        self.c.on_connect = self._on_connect
        self.c.on_message = lambda c, u, m: self.messages.put(m)
        self.c.on_subscribe = self._on_subscribe
        self.c.on_publish = self._on_publish
        self.c.on_disconnect = self._on_disconnect
        port = b.port(transport)
        try:
            if version == 5:
                self.c.connect(HOST, port, keepalive=30, clean_start=clean, properties=properties)
            else:
                self.c.connect(HOST, port, keepalive=30)
        except Exception:
            self.rc = -1
            self.done.set()
            return
        self.c.loop_start()
        self.done.wait(timeout)

    def _code(self, rc):
        return rc.value if hasattr(rc, "value") else rc

    def _on_connect(self, c, u, flags, rc, props=None):
        self.session_present = bool(flags.get("session present")) if isinstance(flags, dict) else None
        self.rc = self._code(rc)
        if self.rc == 0:
            self.connected.set()
        self.done.set()

    def _on_disconnect(self, c, u, rc, props=None):
        self.disconnect_rc = self._code(rc)
        self.disconnected.set()
        self.done.set()
        c.loop_stop() if threading.current_thread() is not getattr(c, "_thread", None) else None

    def _ev(self, mid):
        with self._lock:
            return self.ack_events.setdefault(mid, threading.Event())

    def _on_subscribe(self, c, u, mid, granted, props=None):
        self.acks[mid] = [self._code(g) for g in granted]
        self._ev(mid).set()

    def _on_publish(self, c, u, mid, *rest):
        self._ev(mid).set()

    def subscribe(self, topic, qos=1, timeout=5.0):
        """Returns the SUBACK codes (list)."""
        rc, mid = self.c.subscribe(topic, qos)
        if not self._ev(mid).wait(timeout):
            return None
        return self.acks.get(mid)

    def publish(self, topic, payload, qos=1, timeout=5.0, retain=False):
        """True when acknowledged (QoS 0: sent)."""
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        if qos == 0:
            return True
        return self._ev(info.mid).wait(timeout)

    def get(self, timeout=5.0):
        return self.messages.get(timeout=timeout)

    def none(self, wait=0.5):
        try:
            m = self.messages.get(timeout=wait)
            return m
        except queue.Empty:
            return None

    def drop(self):
        """Closes the socket without a DISCONNECT (the will goes out)."""
        sock = self.c.socket()
        try:
            self.c.loop_stop()  # first, so that the network thread never reads a closed socket
        except Exception:
            pass
        try:
            sock.close()
        except Exception:
            pass

    def close(self):
        try:
            self.c.disconnect()
        except Exception:
            pass
        try:
            self.c.loop_stop()
        except Exception:
            pass


class TenantTestCase(unittest.TestCase):
    """One authenticating broker per test class, with tenants made before it starts.

    ENV: extra server environment. TENANTS: account aliases (self.t is the first,
    self.tenants all). Override prepare(b) to set up more state with b.admin()
    before the start. Clients made with self.track(c) are closed after each test,
    and each test checks that the broker is still alive."""
    ENV = {}
    TENANTS = ("acme",)

    @classmethod
    def prepare(cls, b):
        pass

    @classmethod
    def setUpClass(cls):
        b = AuthBroker(env=dict(cls.ENV))
        b.prepare()
        cls.tenants = [Tenant(b, alias) for alias in cls.TENANTS]
        cls.t = cls.tenants[0]
        cls.prepare(b)
        cls.b = b.start()

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()

    def setUp(self):
        self.clients = []

    def track(self, c):
        self.clients.append(c)
        return c

    def connect(self, key, device, version=5, tenant=None, **kw):
        """A Signature-mode client of `tenant` (default: the first) with key (id, secret)."""
        t = tenant or self.t
        key_id, secret = key
        cid = t.cid(device)
        return self.track(MqttClient(self.b, cid, t.sig_user(key_id), sign(secret, cid), version=version, **kw))

    def root(self, device, **kw):
        """A Signature-mode client with the first tenant's root key."""
        return self.connect((self.t.key_id, self.t.secret), device, **kw)

    def policy(self, name, statements, attach_to=None):
        """A custom policy in the first tenant's account, attached to `attach_to` ("user:x") if given."""
        doc = json.dumps({"Version": "1", "Statement": statements})
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(doc)
        try:
            self.b.admin("policy", "create", "--account", self.t.alias, "--name", name, "--document", f.name)
        finally:
            os.unlink(f.name)
        if attach_to:
            self.b.admin("attach", "--account", self.t.alias, "--principal", attach_to, "--policy", name,
                         "--type", "Custom")

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.assertTrue(self.b.alive(), "broker died:\n" + self.b.log_tail())
