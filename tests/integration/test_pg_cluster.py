#!/usr/bin/python3
"""Several Sluice nodes on one PostgreSQL control store (issue 16, docs/control-store.md).

A throwaway PostgreSQL (scripts/pg.sh: initdb/pg_ctl in a temp dir, a free loopback port) and
two or three nodes given it with --postgres (or SLUICE_POSTGRES / [store] postgres) and the
same master key. Keys created through node 1 sign API calls and MQTT CONNECTs on node 3; a
grant revoked through node 2 disconnects a client of node 1 within a second; two nodes
creating the same user at once: one wins, the other is told EntityAlreadyExists.User; a nonce
spent on one node is refused on another; PostgreSQL restarted under load, the nodes carry on.
Start-up faults: PostgreSQL unreachable, or a node with another master key, exits non-zero
with a clear message.

Skipped (with the reason) only when Debian's postgresql server is not installed."""
import base64
import json
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from auth_harness import AuthBroker, MqttClient, Tenant, rpc, sign  # noqa: E402

PG_SH = os.path.join(harness.SRC, "scripts", "pg.sh")
HAVE_PG = bool(glob.glob("/usr/lib/postgresql/*/bin/initdb")) and bool(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
SKIP_WHY = "PostgreSQL server not installed (initdb/pg_ctl missing: apt-get install postgresql)"
V5_NOT_AUTHORIZED = 135


class Postgres:
    """scripts/pg.sh: start (conninfo), restart, kill, stop."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sluice-pg-it-")
        os.rmdir(self.dir)  # pg.sh makes it (owned by postgres when run as root)
        env = dict(os.environ, PG_WATCH_PID=str(os.getpid()))
        r = subprocess.run([PG_SH, "start", self.dir], capture_output=True, text=True, timeout=120, env=env)
        if r.returncode != 0:
            raise RuntimeError(f"pg.sh start failed: {r.stderr}")
        self.conninfo = r.stdout.strip().splitlines()[-1]

    def sh(self, what):
        subprocess.run([PG_SH, what, self.dir], check=True, capture_output=True, timeout=120)

    def stop(self):
        subprocess.run([PG_SH, "stop", self.dir], capture_output=True, timeout=120)


def pg_uri(conninfo):
    """The keyword=value conninfo pg.sh prints, as a postgresql:// URL (what a rule takes)."""
    kv = dict(x.split("=", 1) for x in conninfo.split())
    return f"postgresql://{kv['user']}:{kv['password']}@{kv['host']}:{kv['port']}/{kv['dbname']}"


def master_key():
    return base64.b64encode(os.urandom(32)).decode()


def node(pg, key, extra=(), env=None):
    e = {"SLUICE_POSTGRES": pg.conninfo, "SLUICE_MASTER_KEY": key}
    e.update(env or {})
    return AuthBroker(env=e, extra_args=list(extra))


def console_login(b, login, password):
    import json
    import urllib.error
    import urllib.request
    req = urllib.request.Request(f"http://{harness.HOST}:{b.http_port}/console/api/login",
                                 data=json.dumps({"login": login, "password": password}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


wait_for = harness.wait_for


@unittest.skipUnless(HAVE_PG, SKIP_WHY)
@harness.skip_on_mosquitto("the PostgreSQL control store is sluice's")
class StartupFaults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres()

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()

    def serve(self, *args, env=None, timeout=30):
        d = tempfile.mkdtemp(prefix="sluice-pg-start-")
        self.addCleanup(shutil.rmtree, d, True)
        e = dict(os.environ, **(env or {}))
        e.pop("SLUICE_POSTGRES", None)
        e.update(env or {})
        cmd = [harness.sluice_bin(), "serve", "--data-dir", os.path.join(d, "data"), "--mqtt-port", "-1",
               "--http-port", "-1", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e)

    def test_unreachable_at_start_is_a_clear_error(self):
        port = harness.free_ports(1)[0]
        t0 = time.monotonic()
        r = self.serve("--postgres", f"host=127.0.0.1 port={port} dbname=x user=x password=hunter2 connect_timeout=2")
        self.assertNotEqual(r.returncode, 0)
        out = r.stdout + r.stderr
        self.assertIn("cannot connect to PostgreSQL", out)
        self.assertIn(f"port={port}", out)
        self.assertNotIn("hunter2", out)  # the conninfo's password never printed
        self.assertLess(time.monotonic() - t0, 20)

    def test_a_node_with_another_master_key_refuses_to_start(self):
        schema = "s" + uuid.uuid4().hex[:8]
        subprocess.run([PG_SH, "psql", self.pg.dir, "-c", f"CREATE SCHEMA {schema}"], check=True,
                       capture_output=True)
        conn = self.pg.conninfo + f" options='-c search_path={schema}'"
        key = master_key()
        first = node(self.pg, key, env={"SLUICE_POSTGRES": conn}).start()
        first.stop()
        r = self.serve(env={"SLUICE_POSTGRES": conn, "SLUICE_MASTER_KEY": master_key()})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("is not the one that encrypted the secrets", r.stdout + r.stderr)
        # The right key starts, from the config file this time ([store] postgres).
        d = tempfile.mkdtemp(prefix="sluice-pg-conf-")
        self.addCleanup(shutil.rmtree, d, True)
        conf = os.path.join(d, "sluice.toml")
        with open(conf, "w") as f:
            f.write('[store]\npostgres = "%s"\n' % conn.replace('"', '\\"'))
        b = AuthBroker(env={"SLUICE_MASTER_KEY": key}, extra_args=["--config", conf]).start()
        try:
            self.assertIn("control store: PostgreSQL", b.log_tail())
        finally:
            b.stop()


@unittest.skipUnless(HAVE_PG, SKIP_WHY)
@harness.skip_on_mosquitto("the PostgreSQL control store is sluice's")
class SharedStoreNodes(unittest.TestCase):
    """NODES nodes (3) on one throwaway PostgreSQL and master key, with tenant "acme" made with
    `sluice admin` against the shared store; node_args(i) adds each node's own flags."""
    NODES = 3

    @classmethod
    def node_args(cls, i):
        return []

    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres()
        key = master_key()
        cls.n = [node(cls.pg, key, extra=cls.node_args(i)) for i in range(cls.NODES)]
        for b in cls.n:
            b.prepare()
        cls.t = Tenant(cls.n[0], "acme")
        for b in cls.n:
            b.start()

    @classmethod
    def tearDownClass(cls):
        for b in cls.n:
            b.stop()
        cls.pg.stop()

    def connect_retrying(self, i, device, key=None, **kw):
        """An MQTT client of tenant acme on node i (Signature mode, the root key or `key` =
        (id, secret)), tried again for 4 s while the node has not heard of a new key or
        instance through PostgreSQL yet; kept in self.clients (a list the test makes)."""
        key = key or (self.t.key_id, self.t.secret)
        for _ in range(40):
            cid = self.t.cid(device)
            c = MqttClient(self.n[i], cid, self.t.sig_user(key[0]), sign(key[1], cid), **kw)
            if c.rc == 0:
                self.clients.append(c)
                return c
            c.close()
            time.sleep(0.1)
        self.fail(f"no CONNECT on node {i + 1}: {self.n[i].log_tail()}")


class ClusterNodes(SharedStoreNodes):
    """The same, made one cluster by three nats-server with JetStream (cluster_harness), the
    nodes named n1, n2, ..."""

    @classmethod
    def node_args(cls, i):
        return ["--nats", cls.nats.urls, "--node-name", f"n{i + 1}"]

    @classmethod
    def setUpClass(cls):
        from cluster_harness import NatsCluster
        cls.nats = NatsCluster(3).start()
        try:
            super().setUpClass()
        except BaseException:
            cls.nats.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.nats.stop()


@unittest.skipUnless(HAVE_PG, SKIP_WHY)
@harness.skip_on_mosquitto("the PostgreSQL control store is sluice's")
class ThreeNodes(SharedStoreNodes):

    def setUp(self):
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        for i, b in enumerate(self.n):
            self.assertTrue(b.alive(), f"node {i + 1} died:\n{b.log_tail()}")

    def call(self, i, action, product="Ram", key=None, **params):
        k = key or (self.t.key_id, self.t.secret)
        return rpc(self.n[i], k[0], k[1], product, action, **params)

    def mqtt(self, i, key, device):
        cid = self.t.cid(device)
        c = MqttClient(self.n[i], cid, self.t.sig_user(key[0]), sign(key[1], cid))
        self.clients.append(c)
        return c

    def new_user_with_key(self, i, name, policy="AliyunMQFullAccess"):
        s, body = self.call(i, "CreateUser", UserName=name)
        self.assertEqual(s, 200, body)
        s, body = self.call(i, "AttachPolicyToUser", PolicyType="System", PolicyName=policy, UserName=name)
        self.assertEqual(s, 200, body)
        s, body = self.call(i, "CreateAccessKey", UserName=name)
        self.assertEqual(s, 200, body)
        return body["AccessKey"]["AccessKeyId"], body["AccessKey"]["AccessKeySecret"]

    def test_key_made_on_node1_signs_api_and_mqtt_on_node3(self):
        key = self.new_user_with_key(0, "dev1")
        # The API on node 3 (its first sight of the key: a store read, no cache to refresh).
        s, body = self.call(2, "ListGroupId", product="OnsMqtt", key=key, InstanceId=self.t.instance)
        self.assertEqual(s, 200, body)
        self.assertIn(self.t.group, str(body))
        # MQTT on node 3: the node's MQ and IAM caches heard the writes (NOTIFY).
        c = None
        for _ in range(20):
            c = self.mqtt(2, key, "d1")
            if c.rc == 0:
                break
            time.sleep(0.1)
        self.assertEqual(c.rc, 0, self.n[2].log_tail())
        self.assertEqual(c.subscribe(f"{self.t.topic}/#"), [1])

    def test_revocation_on_node2_disconnects_a_client_of_node1_within_a_second(self):
        key = self.new_user_with_key(0, "dev2")
        c = self.mqtt(0, key, "d2")
        self.assertEqual(c.rc, 0, self.n[0].log_tail())
        self.assertEqual(c.subscribe(f"{self.t.topic}/#"), [1])
        s, body = self.call(1, "DetachPolicyFromUser", PolicyType="System", PolicyName="AliyunMQFullAccess",
                            UserName="dev2")
        self.assertEqual(s, 200, body)
        t0 = time.monotonic()
        self.assertTrue(c.disconnected.wait(2), "still connected on node 1 after node 2 revoked its rights")
        took = time.monotonic() - t0
        sys.stderr.write(f"revoked on node 2: client of node 1 disconnected after {took * 1000:.0f} ms\n")
        self.assertLess(took, 1.2)
        self.assertEqual(c.disconnect_rc, V5_NOT_AUTHORIZED)

    def test_key_deleted_on_node2_disconnects_a_client_of_node3(self):
        key = self.new_user_with_key(0, "dev3")
        c = self.mqtt(2, key, "d3")
        self.assertEqual(c.rc, 0, self.n[2].log_tail())
        s, body = self.call(1, "DeleteAccessKey", UserName="dev3", UserAccessKeyId=key[0])
        self.assertEqual(s, 200, body)
        t0 = time.monotonic()
        self.assertTrue(c.disconnected.wait(2), "still connected on node 3 after its key was deleted on node 2")
        self.assertLess(time.monotonic() - t0, 1.2)
        s, body = self.call(0, "ListUsers", key=key)
        self.assertEqual(body.get("Code"), "InvalidAccessKeyId.NotFound", body)

    def test_same_user_from_two_nodes_at_once_one_wins(self):
        for i in range(5):
            name = f"race{i}"
            out = [None, None]

            def create(k):
                out[k] = self.call(k, "CreateUser", UserName=name)

            ts = [threading.Thread(target=create, args=(k,)) for k in (0, 1)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            statuses = sorted(s for s, _ in out)
            self.assertEqual(statuses, [200, 409], out)
            loser = next(b for s, b in out if s != 200)
            self.assertEqual(loser["Code"], "EntityAlreadyExists.User", loser)

    def test_a_nonce_spent_on_one_node_is_refused_on_another(self):
        import urllib.parse
        import urllib.request
        import urllib.error
        import hashlib
        import hmac
        import json
        p = {"Action": "ListUsers", "Version": "2015-05-01", "Format": "JSON", "AccessKeyId": self.t.key_id,
             "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex,
             "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        q = lambda s: urllib.parse.quote(str(s), safe="-_.~")  # noqa: E731
        canon = "&".join(f"{q(k)}={q(v)}" for k, v in sorted(p.items()))
        mac = hmac.new((self.t.secret + "&").encode(), ("POST&%2F&" + q(canon)).encode(), hashlib.sha1).digest()
        p["Signature"] = base64.b64encode(mac).decode()
        body = urllib.parse.urlencode(p).encode()

        def send(i):
            req = urllib.request.Request(f"http://{harness.HOST}:{self.n[i].http_port}/", data=body,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())

        self.assertEqual(send(0)[0], 200)
        s, b = send(2)
        self.assertEqual((s, b.get("Code")), (400, "SignatureNonceUsed"), b)


@unittest.skipUnless(HAVE_PG, SKIP_WHY)
@harness.skip_on_mosquitto("the cluster is sluice's")
class OneService(ClusterNodes):
    """The whole of several nodes: one PostgreSQL control store and NATS (three nats-server
    with JetStream). Credentials made through node 1 authenticate on nodes 2 and 3, a
    message goes from a Signature-mode publisher on node 2 to a subscriber on node 3, a
    shared subscription spans the nodes, and a revocation through node 1 ends the rights
    of a subscriber on node 3 at once."""

    @classmethod
    def setUpClass(cls):
        # Loopback allowed for rules, as an operator testing on one machine would: the
        # cluster's own NATS servers and control store stay refused.
        os.environ["SLUICE_RULES_ALLOWED_TARGET_NETWORKS"] = "127.0.0.0/8"
        try:
            super().setUpClass()
        finally:
            del os.environ["SLUICE_RULES_ALLOWED_TARGET_NETWORKS"]

    def test_credentials_messages_and_revocation_across_nodes(self):
        ks, body = rpc(self.n[0], self.t.key_id, self.t.secret, "Ram", "CreateUser", UserName="dev")
        self.assertEqual(ks, 200, body)
        for action, params in (("AttachPolicyToUser", {"PolicyType": "System", "PolicyName": "AliyunMQFullAccess",
                                                        "UserName": "dev"}),):
            s, body = rpc(self.n[0], self.t.key_id, self.t.secret, "Ram", action, **params)
            self.assertEqual(s, 200, body)
        s, body = rpc(self.n[0], self.t.key_id, self.t.secret, "Ram", "CreateAccessKey", UserName="dev")
        self.assertEqual(s, 200, body)
        key = (body["AccessKey"]["AccessKeyId"], body["AccessKey"]["AccessKeySecret"])

        def client(i, device):
            for _ in range(30):  # the node hears the new key through PostgreSQL's NOTIFY
                cid = self.t.cid(device)
                c = MqttClient(self.n[i], cid, self.t.sig_user(key[0]), sign(key[1], cid))
                if c.rc == 0:
                    return c
                c.close()
                time.sleep(0.1)
            self.fail(f"no CONNECT on node {i + 1}: {self.n[i].log_tail()}")

        sub = client(2, "sub")
        self.assertEqual(sub.subscribe(f"{self.t.topic}/cross/#"), [1])
        members = [client(i, f"m{i}") for i in range(3)]
        for m in members:
            self.assertEqual(m.subscribe(f"$share/g/{self.t.topic}/work"), [1])
        time.sleep(0.5)
        pub = client(1, "pub")
        self.assertTrue(pub.publish(f"{self.t.topic}/cross/a", b"from node 2", qos=1))
        m = sub.get(5)
        self.assertEqual((m.topic, m.payload), (f"{self.t.topic}/cross/a", b"from node 2"))
        for i in range(60):
            self.assertTrue(pub.publish(f"{self.t.topic}/work", f"job {i}".encode(), qos=1))
        time.sleep(1.0)
        got = []
        for c in members:
            while (x := c.none(0.2)) is not None:
                got.append(x.payload.decode())
        self.assertEqual(sorted(got), sorted(f"job {i}" for i in range(60)), "each job to one member")
        # Revoked through node 1: the subscriber on node 3 loses its rights within a second.
        s, body = rpc(self.n[0], self.t.key_id, self.t.secret, "Ram", "DetachPolicyFromUser", PolicyType="System",
                      PolicyName="AliyunMQFullAccess", UserName="dev")
        self.assertEqual(s, 200, body)
        self.assertTrue(sub.disconnected.wait(2), "the subscriber on node 3 kept its rights")
        for c in [sub, pub, *members]:
            c.close()
        for i, b in enumerate(self.n):
            self.assertTrue(b.alive(), f"node {i + 1} died:\n{b.log_tail()}")

    def test_instance_connection_limit_holds_across_nodes(self):
        s, body = rpc(self.n[0], self.t.key_id, self.t.secret, "OnsMqtt", "UpdateInstance",
                      InstanceId=self.t.instance, MaxConnections="2")
        self.assertEqual(s, 200, body)
        time.sleep(1.0)  # every node hears the new limit (NOTIFY)

        def connect(i, device):
            cid = self.t.cid(device)
            return MqttClient(self.n[i], cid, self.t.sig_user(self.t.key_id), sign(self.t.secret, cid))

        a, b = connect(0, "lim-a"), connect(1, "lim-b")
        self.assertEqual((a.rc, b.rc), (0, 0))
        time.sleep(2.2)  # the nodes' beats (every second) carry their connection counts
        c = connect(2, "lim-c")
        self.assertEqual(c.rc, 0x97, "the third connection, on a third node, is over the instance's limit of 2")
        c.close()
        a.close()
        time.sleep(2.2)
        d = connect(2, "lim-d")
        self.assertEqual(d.rc, 0, "room again once a connection on another node closed")
        for x in (b, d):
            x.close()
        s, body = rpc(self.n[0], self.t.key_id, self.t.secret, "OnsMqtt", "UpdateInstance",
                      InstanceId=self.t.instance, MaxConnections="0")
        self.assertEqual(s, 200, body)

    def test_rules_may_not_reach_the_clusters_own_nats_or_control_store(self):
        # An inflow rule subscribed to the cluster's NATS would read every tenant's messages
        # off its internal subjects; a target there could inject into them. Refused by every
        # node even with loopback allowed, named as the server's own.
        own = [u.strip() for u in self.nats.urls.split(",")]
        for i, url in enumerate(own):
            s, body = rpc(self.n[i % 3], self.t.key_id, self.t.secret, "OnsMqtt", "CreateRule",
                          InstanceId=self.t.instance, RuleName="tap", RuleType="inflow", SourceTopic="Sensors/in",
                          TargetType="nats", TargetConfig=json.dumps({"Url": url, "Subject": ">x"}))
            self.assertEqual(s, 400, body)
            self.assertIn("this server's own", body["Message"])
        s, body = rpc(self.n[0], self.t.key_id, self.t.secret, "OnsMqtt", "CreateRule",
                      InstanceId=self.t.instance, RuleName="pgtap", RuleType="outflow", SourceTopic=f"{self.t.topic}/#",
                      TargetType="postgres", TargetConfig=json.dumps({"Url": pg_uri(self.pg.conninfo), "Table": "iam_users"}))
        self.assertEqual(s, 400, body)
        self.assertIn("this server's own", body["Message"])
        s, body = rpc(self.n[0], self.t.key_id, self.t.secret, "OnsMqtt", "CreateRule",
                      InstanceId=self.t.instance, RuleName="local", RuleType="outflow", SourceTopic=f"{self.t.topic}/#",
                      TargetType="webhook", TargetConfig=json.dumps({"Url": "http://127.0.0.1:9/hook"}))
        self.assertEqual(s, 200, body)  # loopback itself is allowed here
        self.assertEqual(rpc(self.n[0], self.t.key_id, self.t.secret, "OnsMqtt", "DeleteRule",
                             InstanceId=self.t.instance, RuleName="local")[0], 200)

    def test_instance_figures_per_node_and_cluster_wide_from_any_node(self):
        def connect(i, device):
            cid = self.t.cid(device)
            return MqttClient(self.n[i], cid, self.t.sig_user(self.t.key_id), sign(self.t.secret, cid))

        clients = [connect(0, "fig-a"), connect(0, "fig-b"), connect(2, "fig-c")]
        self.assertEqual([c.rc for c in clients], [0, 0, 0])
        time.sleep(2.2)  # the nodes' beats carry their counts
        for i in range(3):  # any node answers for the whole service
            s, body = rpc(self.n[i], self.t.key_id, self.t.secret, "OnsMqtt", "DescribeMqttMetaData")
            self.assertEqual(s, 200, body)
            inst = next(x for x in body["Instances"] if x["InstanceId"] == self.t.instance)
            nodes = {x["Node"]: x for x in inst["Nodes"]}
            self.assertEqual(sorted(nodes), ["n1", "n2", "n3"], body)
            self.assertEqual([nodes[n]["OnlineClientCount"] for n in ("n1", "n2", "n3")], [2, 0, 1], body)
            self.assertTrue(all(x["Status"] == "alive" for x in nodes.values()), body)
            self.assertEqual([n for n, x in nodes.items() if x["ThisNode"]], [f"n{i + 1}"])
            self.assertEqual(inst["OnlineClientCount"], 3, f"node {i + 1}: {body}")
        for c in clients:
            c.close()


@unittest.skipUnless(HAVE_PG, SKIP_WHY)
@harness.skip_on_mosquitto("the PostgreSQL control store is sluice's")
class StoreLostWhileRunning(unittest.TestCase):
    """PostgreSQL stopped under two running nodes, then started again."""
    GRACE_S = 4

    def setUp(self):
        self.pg = Postgres()
        key = master_key()
        env = {"SLUICE_STORE_UNAVAILABLE_GRACE_S": str(self.GRACE_S)}
        self.n = [node(self.pg, key, env=env) for _ in range(2)]
        for b in self.n:
            b.prepare()
        self.t = Tenant(self.n[0], "acme")
        for b in self.n:
            b.start()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        for i, b in enumerate(self.n):
            alive = b.alive()
            log = b.log_tail()
            b.stop()
            self.assertTrue(alive, f"node {i + 1} died:\n{log}")
        self.pg.stop()

    def call(self, i, action, product="Ram", key=None, **params):
        k = key or (self.t.key_id, self.t.secret)
        return rpc(self.n[i], k[0], k[1], product, action, **params)

    def mqtt(self, i, key, device):
        cid = self.t.cid(device)
        c = MqttClient(self.n[i], cid, self.t.sig_user(key[0]), sign(key[1], cid))
        self.clients.append(c)
        return c

    def key_for(self, name):
        self.assertEqual(self.call(0, "CreateUser", UserName=name)[0], 200)
        self.assertEqual(self.call(0, "AttachPolicyToUser", PolicyType="System", PolicyName="AliyunMQFullAccess",
                                   UserName=name)[0], 200)
        s, body = self.call(0, "CreateAccessKey", UserName=name)
        self.assertEqual(s, 200, body)
        return body["AccessKey"]["AccessKeyId"], body["AccessKey"]["AccessKeySecret"]

    def test_outage_503_cached_clients_connect_0x88_and_catch_up(self):
        used = self.key_for("used")     # connected before the outage: its decisions are cached
        unseen = self.key_for("unseen")  # never used on node 1: a CONNECT needs the store
        sub = self.mqtt(0, used, "sub")
        self.assertEqual(sub.rc, 0, self.n[0].log_tail())
        self.assertEqual(sub.subscribe(f"{self.t.topic}/#"), [1])
        pub = self.mqtt(0, used, "pub")
        self.assertEqual(pub.rc, 0)
        acked = []
        for i in range(5):  # acknowledged writes before the outage
            s, body = self.call(0, "CreateGroupId", product="OnsMqtt", InstanceId=self.t.instance,
                                GroupId=f"GID_before{i}")
            self.assertEqual(s, 200, body)
            acked.append(f"GID_before{i}")

        self.pg.sh("kill")
        t_lost = time.monotonic()
        # Management calls: ServiceUnavailable (503), on both nodes.
        for i in (0, 1):
            s, body = self.call(i, "ListUsers")
            self.assertEqual((s, body.get("Code")), (503, "ServiceUnavailable"), body)
        # The console says so (its sign-in needs the store): 503 ServiceUnavailable, not a wrong password.
        s, body = console_login(self.n[1], "acme@example.com", "password-123")
        self.assertEqual((s, body.get("Code")), (503, "ServiceUnavailable"), body)
        # A client whose decisions are cached keeps publishing and receiving.
        self.assertTrue(pub.publish(f"{self.t.topic}/x", b"during", qos=1))
        self.assertEqual(sub.get(timeout=3).payload, b"during")
        # A CONNECT that needs the store: 0x88 Server unavailable (not "bad password").
        c = self.mqtt(0, unseen, "new")
        self.assertEqual(c.rc, 0x88, self.n[0].log_tail())
        # After the configured grace, the cached clients are let go.
        self.assertTrue(sub.disconnected.wait(self.GRACE_S + 3), "still connected long after the grace")
        took = time.monotonic() - t_lost
        self.assertGreater(took, self.GRACE_S - 0.5)
        self.assertLess(took, self.GRACE_S + 3)

        self.pg.sh("restart")
        # Back: both nodes answer again without a restart, and see what was acknowledged before.
        self.assertTrue(wait_for(lambda: self.call(0, "ListUsers")[0] == 200, 15), self.n[0].log_tail())
        self.assertTrue(wait_for(lambda: self.call(1, "ListUsers")[0] == 200, 15), self.n[1].log_tail())
        s, body = self.call(1, "ListGroupId", product="OnsMqtt", InstanceId=self.t.instance)
        self.assertEqual(s, 200, body)
        for g in acked:
            self.assertIn(g, str(body))
        # A write on node 2 after the return takes effect on node 1 (its listener is back).
        self.assertEqual(self.call(1, "DetachPolicyFromUser", PolicyType="System",
                                   PolicyName="AliyunMQFullAccess", UserName="used")[0], 200)
        t0 = time.monotonic()
        self.assertTrue(wait_for(lambda: self.mqtt(0, used, "after").rc == V5_NOT_AUTHORIZED, 2, step=0.1),
                        "node 1 did not hear the revocation made on node 2 after the outage")
        self.assertLess(time.monotonic() - t0, 1.5)
        self.assertEqual(self.mqtt(0, unseen, "n2").rc, 0)  # the store is back: new CONNECTs pass

    def test_restart_under_load_nothing_acknowledged_is_lost(self):
        stop = threading.Event()
        results = []  # (node, group id, status, code)

        def load(i):
            k = 0
            while not stop.is_set():
                g = f"GID_n{i}_{k}"
                k += 1
                try:
                    s, body = self.call(i, "CreateGroupId", product="OnsMqtt", InstanceId=self.t.instance, GroupId=g)
                except Exception as e:  # a socket error would be a failure of the node
                    s, body = -1, {"Code": repr(e)}
                results.append((i, g, s, body.get("Code")))
                time.sleep(0.02)

        ts = [threading.Thread(target=load, args=(i,)) for i in (0, 1)]
        for t in ts:
            t.start()
        time.sleep(1.0)
        self.pg.sh("kill")  # a crash (immediate shutdown), then the server comes back
        time.sleep(1.0)
        self.pg.sh("restart")
        time.sleep(2.0)
        stop.set()
        for t in ts:
            t.join()
        codes = {(s, c) for _, _, s, c in results}
        self.assertTrue(codes <= {(200, None), (503, "ServiceUnavailable")}, codes)
        self.assertIn((503, "ServiceUnavailable"), codes)
        # Calls succeed again on both nodes, without a restart.
        self.assertEqual(results[-1][2], 200, results[-5:])
        for i in (0, 1):
            self.assertTrue(wait_for(lambda: self.call(i, "ListUsers")[0] == 200, 10))
        acked = [g for _, g, s, _ in results if s == 200]

        def missing(i):
            s, body = self.call(i, "ListGroupId", product="OnsMqtt", InstanceId=self.t.instance)
            return [g for g in acked if f"'{g}'" not in str(body)] if s == 200 else acked
        for i in (0, 1):  # each node's snapshot has every acknowledged write of both nodes
            wait_for(lambda: not missing(i), 5)
            self.assertEqual(missing(i), [], f"node {i + 1}: acknowledged but not there")
        sys.stderr.write(f"restart under load: {len(acked)} acknowledged, "
                         f"{sum(1 for r in results if r[2] == 503)} answered 503\n")


@unittest.skipUnless(HAVE_PG, SKIP_WHY)
@harness.skip_on_mosquitto("the PostgreSQL control store is sluice's")
class StoreCopy(unittest.TestCase):
    """sluice admin store copy: a single node's SQLite store moved into PostgreSQL."""

    def test_copy_keeps_keys_passwords_and_refuses_a_non_empty_target(self):
        pg = Postgres()
        self.addCleanup(pg.stop)
        # A single node (SQLite, its own master.key) with a tenant, a RAM user and its key.
        single = AuthBroker()
        single.prepare()
        t = Tenant(single, "acme")
        user_key = t.user("dev", "AliyunMQFullAccess")
        single.start()
        s, body = t.rpc("Ram", "CreateUser", UserName="made-by-api")
        self.assertEqual(s, 200, body)
        keep = os.environ.get("SLUICE_TEST_KEEP")
        os.environ["SLUICE_TEST_KEEP"] = "1"  # stopped, its data dir kept for the copy
        try:
            single.stop()
        finally:
            if keep is None:
                del os.environ["SLUICE_TEST_KEEP"]
            else:
                os.environ["SLUICE_TEST_KEEP"] = keep
        kept = single.dir
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", kept]))

        def copy(*extra):
            return subprocess.run([harness.sluice_bin(), "admin", "store", "copy", "--from", single.data_dir,
                                   "--to", pg.conninfo, *extra], capture_output=True, text=True, timeout=120)

        r = copy()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("copied", r.stdout)
        self.assertNotIn(pg.conninfo.split("password=")[1].split()[0], r.stdout + r.stderr)
        # Again: the target is not empty any more; refused unless --force, which gives the same store.
        r = copy()
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not empty", r.stderr)
        r = copy("--force")
        self.assertEqual(r.returncode, 0, r.stderr)

        # A node on PostgreSQL with the single node's master key: keys, secrets and passwords work.
        with open(os.path.join(single.data_dir, "master.key")) as f:
            key = f.read().strip()
        n = node(pg, key)
        n.start()
        self.addCleanup(n.stop)
        s, body = rpc(n, t.key_id, t.secret, "Ram", "ListUsers")
        self.assertEqual(s, 200, body)
        self.assertIn("made-by-api", str(body))
        cid = t.cid("copied")
        c = MqttClient(n, cid, t.sig_user(user_key[0]), sign(user_key[1], cid))
        self.addCleanup(c.close)
        self.assertEqual(c.rc, 0, n.log_tail())
        self.assertEqual(console_login(n, "acme@example.com", "password-123")[0], 200)
        # The audit log came along, and new events go on after it.
        s, body = rpc(n, t.key_id, t.secret, "Actiontrail", "LookupEvents")
        self.assertEqual(s, 200, body)
        self.assertIn("CreateUser", str(body))


if __name__ == "__main__":
    harness.main()
