#!/usr/bin/python3
"""Authentication on CONNECT (SPEC §5) with real clients (Paho, mosquitto_pub/sub):
Signature, Token (with expiry notice and disconnect), DeviceCredential (unregister
drops the device), Custom (USER/CLIENT, ORIGIN/SIGNED, permissions, blacklist), and
attempts across accounts and instances (refused, audited)."""
import json
import os
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from auth_harness import MqttClient, Tenant, TenantTestCase, sign  # noqa: E402

V5_BAD_CREDENTIALS, V5_NOT_AUTHORIZED, V5_BAD_CLIENT_ID = 0x86, 0x87, 0x85
V3_BAD_CREDENTIALS, V3_NOT_AUTHORIZED, V3_BAD_CLIENT_ID = 4, 5, 2


@harness.skip_on_mosquitto("ApsaraMQ authentication is sluice-specific")
class AuthModes(TenantTestCase):
    ENV = {"SLUICE_MQ_TOKEN_NOTICE_LEAD_S": "3", "SLUICE_MQ_TOKEN_MIN_TTL_S": "2", "SLUICE_MQ_AUTH_FAIL_BURST": "1000"}
    TENANTS = ("acme", "other")

    @classmethod
    def prepare(cls, b):
        cls.t2 = cls.tenants[1]
        b.env["SLUICE_MQ_DEFAULT_INSTANCE"] = cls.t.instance  # Custom mode without SNI / Host

    def client(self, cid, user=None, pw=None, **kw):
        return self.track(MqttClient(self.b, cid, user, pw, **kw))

    def sig_client(self, device, tenant=None, version=5, transport="tcp", secret=None, key_id=None):
        t = tenant or self.t
        cid = t.cid(device)
        return self.client(cid, t.sig_user(key_id or t.key_id), sign(secret or t.secret, cid), version=version,
                           transport=transport)

    def admin(self, *args):
        return self.b.admin(*args)

    # -- Signature -----------------------------------------------------------------------
    def test_signature_round_trip_v3_v5_all_transports(self):
        sub = self.sig_client("sub1")
        self.assertEqual(sub.rc, 0, self.b.log_tail())
        self.assertEqual(sub.subscribe("Sensors/#"), [1])
        for version in (4, 5):
            for transport in ("tcp", "tls", "ws", "wss"):
                pub = self.sig_client(f"pub-{version}-{transport}", version=version, transport=transport)
                self.assertEqual(pub.rc, 0, f"{version} {transport}")
                self.assertTrue(pub.publish(f"Sensors/{transport}", f"v{version}".encode()))
                m = sub.get()
                self.assertEqual((m.topic, m.payload), (f"Sensors/{transport}", f"v{version}".encode()))
                pub.close()

    def test_signature_failures_get_the_right_connack(self):
        t = self.t
        cid = t.cid("bad")
        self.assertEqual(self.client(cid, t.sig_user(t.key_id), "wrong", version=4).rc, V3_BAD_CREDENTIALS)
        self.assertEqual(self.client(cid, t.sig_user(t.key_id), "wrong").rc, V5_BAD_CREDENTIALS)
        self.assertEqual(self.client(cid, t.sig_user("LTAInosuchkey"), sign(t.secret, cid)).rc, V5_BAD_CREDENTIALS)
        self.assertEqual(self.client(cid, None, None).rc, V5_BAD_CREDENTIALS)  # anonymous: refused
        for bad in ("plain-client", "GID_nosuchgroup@@@1"):
            self.assertEqual(self.client(bad, t.sig_user(t.key_id), sign(t.secret, bad), version=4).rc,
                             V3_BAD_CLIENT_ID)
            self.assertEqual(self.client(bad, t.sig_user(t.key_id), sign(t.secret, bad)).rc, V5_BAD_CLIENT_ID)

    def test_mosquitto_clients_with_signature(self):
        t = self.t
        sub_id, pub_id = t.cid("msub"), t.cid("mpub")
        sub = subprocess.Popen(["mosquitto_sub", "-h", harness.HOST, "-p", str(self.b.mqtt_port), "-V", "mqttv311",
                                "-i", sub_id, "-u", t.sig_user(t.key_id), "-P", sign(t.secret, sub_id),
                                "-t", "Sensors/mosq", "-C", "1", "-W", "10"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        subprocess.run(["mosquitto_pub", "-h", harness.HOST, "-p", str(self.b.mqtt_port), "-V", "mqttv5",
                        "-i", pub_id, "-u", t.sig_user(t.key_id), "-P", sign(t.secret, pub_id),
                        "-t", "Sensors/mosq", "-m", "hello", "-q", "1"], check=True, timeout=10)
        out, err = sub.communicate(timeout=15)
        self.assertEqual(out.strip(), "hello", err)
        r = subprocess.run(["mosquitto_pub", "-h", harness.HOST, "-p", str(self.b.mqtt_port), "-V", "mqttv5",
                            "-i", pub_id, "-u", t.sig_user(t.key_id), "-P", "bad", "-t", "Sensors/mosq", "-m", "x"],
                           capture_output=True, text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)

    # -- across accounts and instances -----------------------------------------------------
    def test_attempts_across_accounts_and_instances_fail_and_are_audited(self):
        t, o = self.t, self.t2
        cid = t.cid("x")  # acme's group, acme's instance, other's key
        self.assertEqual(self.client(cid, f"Signature|{o.key_id}|{t.instance}", sign(o.secret, cid)).rc,
                         V5_NOT_AUTHORIZED)
        self.assertEqual(self.client(cid, f"Signature|{o.key_id}|{t.instance}", sign(o.secret, cid),
                                     version=4).rc, V3_NOT_AUTHORIZED)
        # A device credential of one instance does not open another.
        key, secret = self.admin("device-credential", "register", "--account", "acme", "--instance", t.instance,
                                 "--client-id", t.cid("crossdev")).split("\t")
        time.sleep(0.5)
        self.assertEqual(self.client(t.cid("crossdev"), f"DeviceCredential|{key}|{o.instance}",
                                     sign(secret, t.cid("crossdev"))).rc, V5_BAD_CREDENTIALS)
        self.assertTrue(self.audited("mqtt.connect.denied", "another account"), "denial not audited")

    def audited(self, event, reason, timeout=5.0):
        """The denial reached the audit sink: the audit log table (api::AuditLog, when
        wired) or, without it, the log line of mq::LogAuditSink."""
        db = os.path.join(self.b.data_dir, "sluice.db")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.b.log_tail(200000)
            if f"audit: {event}" in log and reason in log:
                return True
            try:
                con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=2)
                try:
                    rows = con.execute("SELECT event_name, error_message FROM audit_events").fetchall()
                finally:
                    con.close()
            except sqlite3.Error:
                rows = []
            if any(r[0] == event and reason in (r[1] or "") for r in rows):
                return True
            time.sleep(0.2)
        return False

    # -- Token -----------------------------------------------------------------------------
    def apply_token(self, actions, ttl, *resources):
        tok = self.admin("token", "apply", "--account", "acme", "--instance", self.t.instance, "--actions", actions,
                         "--ttl", str(ttl), *[x for r in resources for x in ("--resource", r)])
        time.sleep(0.5)  # the server sees another process's commit within ~200 ms
        return tok

    def test_token_mode_expiry_notice_then_disconnect(self):
        r = self.apply_token("R", 8, "Sensors/tok/#")
        w = self.apply_token("W", 3600, "Sensors/tok/#")
        t = self.t
        c = self.client(t.cid("tok"), f"Token|{t.key_id}|{t.instance}", f"R|{r}|W|{w}")
        self.assertEqual(c.rc, 0, self.b.log_tail())
        self.assertEqual(c.subscribe("Sensors/tok/#"), [1])
        self.assertEqual(c.subscribe("Sensors/other"), [V5_NOT_AUTHORIZED])
        self.assertTrue(c.publish("Sensors/tok/a", b"via token"))
        self.assertEqual(c.get().payload, b"via token")
        # Notice about 3 s before expiry, then the invalid notice (code 2) and the disconnect.
        m = c.get(timeout=8)
        self.assertEqual(m.topic, "$SYS/tokenExpireNotice")
        self.assertEqual(json.loads(m.payload)["type"], "R")
        m = c.get(timeout=8)
        self.assertEqual(m.topic, "$SYS/tokenInvalidNotice")
        self.assertEqual(json.loads(m.payload)["code"], 2)
        self.assertTrue(c.disconnected.wait(3), "not disconnected at expiry")
        # Bad tokens and type mismatches are refused.
        self.assertEqual(self.client(t.cid("tok2"), f"Token|{t.key_id}|{t.instance}", f"R|{w}").rc,
                         V5_BAD_CREDENTIALS)
        self.assertEqual(self.client(t.cid("tok2"), f"Token|{t.key_id}|{t.instance}", "W|nosuchtoken").rc,
                         V5_BAD_CREDENTIALS)

    def test_token_upload_and_revocation(self):
        r = self.apply_token("R", 3600, "Sensors/up/#")
        r2 = self.apply_token("R,W", 3600, "Sensors/up/#")
        t = self.t
        c = self.client(t.cid("up"), f"Token|{t.key_id}|{t.instance}", f"R|{r}")
        self.assertEqual(c.rc, 0)
        self.assertTrue(c.publish("$SYS/uploadToken", json.dumps({"token": r2, "type": "RW"}).encode()))
        time.sleep(0.3)
        self.assertEqual(c.subscribe("Sensors/up/x"), [1])
        self.assertTrue(c.publish("Sensors/up/x", b"after upload"))
        self.assertEqual(c.get().payload, b"after upload")
        self.admin("token", "revoke", "--account", "acme", "--instance", t.instance, "--token", r2)
        m = c.get(timeout=3)
        self.assertEqual(m.topic, "$SYS/tokenInvalidNotice")
        self.assertEqual(json.loads(m.payload)["code"], 3)
        self.assertTrue(c.disconnected.wait(3))

    # -- DeviceCredential --------------------------------------------------------------------
    def test_device_credential_own_client_only_and_unregister_drops(self):
        t = self.t
        cid = t.cid("dev1")
        key, secret = self.admin("device-credential", "register", "--account", "acme", "--instance", t.instance,
                                 "--client-id", cid).split("\t")
        self.assertTrue(key.startswith("DC."))
        time.sleep(0.5)
        c = self.client(cid, f"DeviceCredential|{key}|{t.instance}", sign(secret, cid), version=4)
        self.assertEqual(c.rc, 0, self.b.log_tail())
        self.assertEqual(c.subscribe("Sensors/dev1"), [1])
        self.assertTrue(c.publish("Sensors/dev1", b"d"))
        self.assertEqual(c.get().payload, b"d")
        other = t.cid("dev2")
        self.assertEqual(self.client(other, f"DeviceCredential|{key}|{t.instance}", sign(secret, other)).rc,
                         V5_NOT_AUTHORIZED)
        start = time.monotonic()
        self.admin("device-credential", "unregister", "--account", "acme", "--instance", t.instance,
                   "--client-id", cid)
        self.assertTrue(c.disconnected.wait(2), "device not dropped")
        self.assertLess(time.monotonic() - start, 1.5)
        self.assertEqual(self.client(cid, f"DeviceCredential|{key}|{t.instance}", sign(secret, cid)).rc,
                         V5_BAD_CREDENTIALS)

    # -- Custom ------------------------------------------------------------------------------
    def test_custom_auth_user_client_origin_signed_permissions_blacklist(self):
        t, inst = self.t, self.t.instance
        a = ("--account", "acme", "--instance", inst)
        self.admin("custom-auth", "add", *a, "--username", "alice", "--type", "USER", "--secret", "pw-origin")
        self.admin("custom-auth", "add", *a, "--username", "dev", "--type", "CLIENT", "--client-id", t.cid("c1"),
                   "--secret", "signed-secret", "--sign-mode", "SIGNED")
        self.admin("custom-auth", "permit", *a, "--identity", "alice", "--topic", "Sensors/#")
        self.admin("custom-auth", "permit", *a, "--identity", "alice", "--topic", "Sensors/private",
                   "--effect", "DENY")
        self.admin("custom-auth", "permit", *a, "--identity", t.cid("c1"), "--type", "CLIENT",
                   "--topic", "Sensors/c1", "--action", "PUB")
        self.admin("custom-auth", "black", *a, "--client-id", t.cid("banned"))
        time.sleep(0.5)
        watcher = self.sig_client("watch")
        self.assertEqual(watcher.subscribe("Sensors/#"), [1])
        alice = self.client(t.cid("u1"), "alice", "pw-origin")
        self.assertEqual(alice.rc, 0, self.b.log_tail())
        self.assertEqual(alice.subscribe("Sensors/a/#"), [1])
        self.assertEqual(alice.subscribe("Sensors/#"), [V5_NOT_AUTHORIZED])  # overlaps the DENY
        alice.publish("Sensors/private", b"denied")
        alice.publish("Sensors/a/1", b"allowed")
        self.assertEqual(watcher.get().payload, b"allowed")  # the denied one was not routed
        self.assertEqual(alice.get().payload, b"allowed")
        self.assertEqual(self.client(t.cid("u2"), "alice", "wrong").rc, V5_BAD_CREDENTIALS)
        self.assertEqual(self.client(t.cid("banned"), "alice", "pw-origin").rc, V5_NOT_AUTHORIZED)
        dev = self.client(t.cid("c1"), "dev", sign("signed-secret", t.cid("c1")), version=4)
        self.assertEqual(dev.rc, 0)
        self.assertEqual(dev.subscribe("Sensors/c1"), [128])  # PUB only
        self.assertEqual(self.client(t.cid("c2"), "dev", sign("signed-secret", t.cid("c2"))).rc,
                         V5_BAD_CREDENTIALS)  # a CLIENT identity is for its own client id
        # Blacklisting a connected client drops it.
        self.admin("custom-auth", "black", *a, "--client-id", t.cid("c1"))
        self.assertTrue(dev.disconnected.wait(2))

    def test_p2p_delivered_without_subscription(self):
        a = self.sig_client("p2pa")
        b = self.sig_client("p2pb")
        self.assertTrue(a.publish(f"Sensors/p2p/{self.t.cid('p2pb')}", b"direct"))
        m = b.get()
        self.assertEqual(m.payload, b"direct")

    def test_state_survives_a_restart(self):
        self.b.restart()
        c = self.sig_client("after-restart")
        self.assertEqual(c.rc, 0, self.b.log_tail())
        self.assertEqual(c.subscribe("Sensors/#"), [1])


if __name__ == "__main__":
    harness.main()
