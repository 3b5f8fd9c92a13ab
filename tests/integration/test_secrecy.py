#!/usr/bin/python3
"""No secret leaks (issue 7 §5): access-key secrets, passwords, tokens, device and
custom-auth secrets, and the Signature passwords derived from them never appear in
the server's log, the audit log (export), device traces, API error messages, or in
plain text in any file of the data directory — whether the attempt that carried
them succeeded or failed (a near miss of a secret is as sensitive as the secret)."""
import json
import os
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from auth_harness import AuthBroker, MqttClient, TenantTestCase, rpc, sign  # noqa: E402

HOST = harness.HOST


@harness.skip_on_mosquitto("secrecy of Sluice's own credentials")
class Secrecy(TenantTestCase):
    ENV = {"SLUICE_MQ_AUTH_FAIL_BURST": "1000"}
    TENANTS = ("sec",)

    @classmethod
    def prepare(cls, b):
        b.env["SLUICE_MQ_DEFAULT_INSTANCE"] = cls.t.instance  # Custom mode without SNI / Host

    def rpc(self, product, action, key_id=None, secret=None, **params):
        """(status, body text) of a signed call with the tenant's root key or the given one."""
        status, body = self.t.rpc(product, action, key_id=key_id, secret=secret, **params)
        return status, json.dumps(body)

    def console_login(self, login, password):
        req = urllib.request.Request(f"http://{HOST}:{self.b.http_port}/console/api/login",
                                     data=json.dumps({"login": login, "password": password}).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def mqtt(self, cid, user, password):
        c = MqttClient(self.b, cid, user, password)
        rc = c.rc
        c.close()
        return rc

    def test_no_secret_in_logs_audit_traces_errors_or_at_rest(self):
        t = self.t
        secrets = {"root access key secret": t.secret}
        errors = []  # API error bodies

        def ok(status_body, what):
            status, body = status_body
            self.assertEqual(status, 200, f"{what}: {body}")
            return json.loads(body)

        # --- management API: every kind of secret goes in or comes out of a call
        ok(self.rpc("Ram", "CreateUser", UserName="alice"), "CreateUser")
        secrets["console password"] = "Al1ce-Pa55word!"
        ok(self.rpc("Ram", "CreateLoginProfile", UserName="alice", Password=secrets["console password"]),
           "CreateLoginProfile")
        key = ok(self.rpc("Ram", "CreateAccessKey", UserName="alice"), "CreateAccessKey")["AccessKey"]
        secrets["RAM user key secret"] = key["AccessKeySecret"]
        ok(self.rpc("Ram", "AttachPolicyToUser", PolicyType="System", PolicyName="AliyunMQFullAccess",
                    UserName="alice"), "AttachPolicyToUser")
        tok = ok(self.rpc("OnsMqtt", "ApplyToken", InstanceId=t.instance, Resources="Sensors/#", Actions="R,W",
                          ExpireTime=int(time.time() * 1000) + 3600_000), "ApplyToken")["Token"]
        secrets["token"] = tok
        cid_dev = t.cid("dev1")
        dc = ok(self.rpc("OnsMqtt", "RegisterDeviceCredential", InstanceId=t.instance, ClientId=cid_dev),
                "RegisterDeviceCredential")["DeviceCredential"]
        secrets["device secret"] = dc["DeviceAccessKeySecret"]
        secrets["custom-auth secret"] = "Cust0m-Secret-xyz"
        ok(self.rpc("OnsMqtt", "AddCustomAuthIdentity", InstanceId=t.instance, Username="cust",
                    Secret=secrets["custom-auth secret"], IdentityType="USER", SignMode="ORIGIN"),
           "AddCustomAuthIdentity")
        # Failed calls: a wrong secret, and a password that the policy refuses.
        near = {"near miss of the root secret": t.secret[:-1] + ("x" if t.secret[-1] != "x" else "y")}
        errors.append(self.rpc("Ram", "ListUsers", secret=near["near miss of the root secret"])[1])
        errors.append(self.rpc("Ram", "CreateLoginProfile", UserName="alice", Password="short1")[1])
        errors.append(self.rpc("Ram", "UpdateLoginProfile", UserName="nobody", Password="Nob0dy-Pa55word!")[1])
        secrets["refused password"] = "Nob0dy-Pa55word!"

        # --- MQTT: each mode, right and wrong
        cid = t.cid("sig")
        secrets["Signature password"] = sign(t.secret, cid)
        self.assertEqual(self.mqtt(cid, t.sig_user(t.key_id), secrets["Signature password"]), 0)
        real = sign(t.secret, cid)
        # One character off (never the real one: a random key's signature may end in "A=").
        near["near miss of a Signature password"] = real[:-2] + ("A" if real[-2] != "A" else "B") + "="
        self.assertNotEqual(self.mqtt(cid, t.sig_user(t.key_id), near["near miss of a Signature password"]), 0)
        self.assertEqual(self.mqtt(t.cid("tok"), f"Token|{t.key_id}|{t.instance}", f"R|{tok}|W|{tok}"), 0)
        self.assertNotEqual(self.mqtt(t.cid("tok"), f"Token|{t.key_id}|{t.instance}", f"RW|{tok[:-3]}abc"), 0)
        secrets["DeviceCredential password"] = sign(secrets["device secret"], cid_dev)
        self.assertEqual(self.mqtt(cid_dev, f"DeviceCredential|{dc['DeviceAccessKeyId']}|{t.instance}",
                                   secrets["DeviceCredential password"]), 0)
        self.assertEqual(self.mqtt(t.cid("cust"), "cust", secrets["custom-auth secret"]), 0)
        near["near miss of the custom secret"] = "Cust0m-Secret-xyW"
        self.assertNotEqual(self.mqtt(t.cid("cust"), "cust", near["near miss of the custom secret"]), 0)

        # --- console sign-in, wrong then right
        self.assertEqual(self.console_login("alice@sec", "Wr0ng-Pa55word!")[0], 401)
        near["wrong console password"] = "Wr0ng-Pa55word!"
        self.assertEqual(self.console_login("alice@sec", secrets["console password"])[0], 200)

        # --- where a secret could leak
        time.sleep(1.5)  # audit batches are written within a second
        traces = self.rpc("OnsMqtt", "QueryMqttTraceDevice", InstanceId=t.instance, ClientId=cid,
                          BeginTime=int(time.time() * 1000) - 600_000, EndTime=int(time.time() * 1000) + 1000)[1]
        traces += self.rpc("OnsMqtt", "QueryMqttTraceDevice", InstanceId=t.instance, ClientId=t.cid("tok"),
                           BeginTime=int(time.time() * 1000) - 600_000, EndTime=int(time.time() * 1000) + 1000)[1]
        self.assertIn("connect", traces)
        audit = self.b.admin("audit", "export")
        self.assertIn("CreateLoginProfile", audit)
        places = {"server log": self.b.log_tail(50_000_000), "audit export": audit, "device traces": traces,
                  "API error messages": "\n".join(errors)}
        for root, _, files in os.walk(self.b.data_dir):
            for f in files:
                if f == "initial-credentials.json":  # the documented, 0600, print-once bootstrap file
                    continue
                with open(os.path.join(root, f), "rb") as fh:
                    places[f"data file {f}"] = fh.read().decode("latin-1")
        self.assertGreater(len(places), 4)
        for what, secret in {**secrets, **near}.items():
            self.assertGreaterEqual(len(secret), 8, what)
            for where, text in places.items():
                self.assertNotIn(secret, text, f"the {what} appears in the {where}")


@harness.skip_on_mosquitto("Sluice's first-start credentials file")
class InitialCredentialsScrub(unittest.TestCase):
    """<data-dir>/initial-credentials.json holds the root's first password and key secret
    in plain text (0600) only while they are live: the password leaves the file once it
    has been changed, the secret once the key is deleted."""

    FIRST = "First-Pa55word!"

    def setUp(self):
        self.b = AuthBroker(env={"SLUICE_ROOT_PASSWORD": self.FIRST}).start()
        self.path = os.path.join(self.b.data_dir, "initial-credentials.json")

    def tearDown(self):
        self.b.stop()

    def read(self):
        with open(self.path) as f:
            raw = f.read()
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)
        return raw, json.loads(raw)

    def wait_until(self, pred, what, timeout=12.0):  # the server looks every 5 s
        deadline = time.monotonic() + timeout
        while True:
            raw, doc = self.read()
            if pred(doc):
                return raw, doc
            if time.monotonic() > deadline:
                self.fail(f"{what}; the file: {doc}")
            time.sleep(0.2)

    def console(self, path, body, headers=None):
        req = urllib.request.Request(f"http://{HOST}:{self.b.http_port}/console/api/{path}",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", **(headers or {})})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read()), r.headers.get("Set-Cookie", "")

    def test_replaced_secrets_leave_the_file(self):
        _, first = self.read()
        self.assertEqual(first["password"], self.FIRST)
        self.assertTrue(first["accessKeySecret"])
        time.sleep(6)  # a scrub pass or more: nothing is replaced yet, nothing leaves
        _, doc = self.read()
        self.assertEqual(doc["password"], self.FIRST)

        # The first sign-in has to change the password; then it leaves the file.
        session, cookie = self.console("login", {"login": "root", "password": self.FIRST})
        self.console("password", {"oldPassword": self.FIRST, "newPassword": "Second-Pa55word!"},
                     {"Cookie": cookie.split(";")[0], "X-CSRF-Token": session["csrfToken"]})
        raw, doc = self.wait_until(lambda d: "password" not in d, "the changed password stayed in the file")
        self.assertNotIn(self.FIRST, raw)
        self.assertIs(doc["passwordChanged"], True)
        self.assertEqual(doc["accessKeySecret"], first["accessKeySecret"], "the key is still live")

        # Deleting the first key takes its secret out.
        status, body = rpc(self.b, first["accessKeyId"], first["accessKeySecret"], "Ram", "DeleteAccessKey",
                           UserAccessKeyId=first["accessKeyId"])
        self.assertEqual(status, 200, body)
        raw, doc = self.wait_until(lambda d: "accessKeySecret" not in d, "a deleted key's secret stayed")
        self.assertNotIn(first["accessKeySecret"], raw)
        self.assertIs(doc["accessKeyDeleted"], True)
        self.assertEqual(doc["accessKeyId"], first["accessKeyId"])
        self.assertEqual(doc["accountId"], first["accountId"])
        self.assertIn("removed from the file", self.b.log_tail())


if __name__ == "__main__":
    unittest.main(verbosity=2)
