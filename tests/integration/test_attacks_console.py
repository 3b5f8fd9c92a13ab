#!/usr/bin/python3
"""The standing attack suite, console and secret side (issue #14 items 3, 4 and 13): each
test is an attack that once worked against a running Sluice (or guards the fix of one),
replayed over HTTP with the console's own API and the signed RPC API.

- A console session is bound to the user's id and its login generation: a password reset,
  a login profile's update or deletion, the user's deletion (re-created or not) end it; the
  next call answers 401 SessionEnded. Changing one's own password keeps that session and
  ends the others.
- A device secret comes back only to a principal allowed to mint one
  (mq:RegisterDeviceCredential on the instance), never through a read-only grant; no read
  operation returns a secret to a read-only user.
- The session cookie is Secure behind a trusted TLS proxy; sign-in failures are throttled
  per login name as well as per source address, and one login name's failures do not lock
  another out."""
import http.client
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from auth_harness import MqttClient, TenantTestCase, sign  # noqa: E402

HOST = harness.HOST
V5_NOT_AUTHORIZED = 0x87


class Console:
    """A browser-like console client: keeps the session cookie, sends the CSRF token.
    source: the local address to connect from (any 127.x.y.z reaches the loopback server)."""

    def __init__(self, b, source=None, headers=None):
        self.b, self.source, self.headers = b, source, dict(headers or {})
        self.cookie = self.csrf = None
        self.last_set_cookie = None

    def request(self, method, path, body=None, csrf=True):
        conn = http.client.HTTPConnection(HOST, self.b.http_port, timeout=10,
                                          source_address=(self.source, 0) if self.source else None)
        headers = dict(self.headers)
        headers["Content-Type"] = "application/json"
        if self.cookie:
            headers["Cookie"] = self.cookie
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        try:
            conn.request(method, "/console/api/" + path, body=json.dumps(body) if body is not None else None,
                         headers=headers)
            r = conn.getresponse()
            data = r.read().decode()
            self.last_set_cookie = r.getheader("Set-Cookie")
            self.last_headers = dict(r.getheaders())
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = {"raw": data}
            return r.status, parsed
        finally:
            conn.close()

    def login(self, login, password):
        status, body = self.request("POST", "login", {"login": login, "password": password}, csrf=False)
        if status == 200:
            self.cookie = self.last_set_cookie.split(";")[0]
            self.csrf = body["csrfToken"]
        return status, body

    def session(self):
        return self.request("GET", "session")

    def call(self, product, action, **params):
        return self.request("POST", "call", {"product": product, "action": action, "params": params})

    def password(self, old, new):
        return self.request("POST", "password", {"oldPassword": old, "newPassword": new})


def ok(test, status_body, what):
    status, body = status_body
    test.assertEqual(status, 200, f"{what}: {body}")
    return body


@harness.skip_on_mosquitto("the console is sluice-specific")
class SessionRevocation(TenantTestCase):
    """Item 3: a console session ends when its user's console access changes."""
    TENANTS = ("acme",)
    PW = "Al1ce-Pa55word!"

    def ram(self, action, **params):
        return ok(self, self.t.rpc("Ram", action, **params), action)

    def make_user(self, name, *policies):
        self.ram("CreateUser", UserName=name)
        self.ram("CreateLoginProfile", UserName=name, Password=self.PW)
        for p in policies:
            self.ram("AttachPolicyToUser", PolicyType="System", PolicyName=p, UserName=name)

    def signed_in(self, name, password=None):
        c = Console(self.b)
        status, body = c.login(f"{name}@acme", password or self.PW)
        self.assertEqual(status, 200, body)
        self.assertEqual(c.session()[0], 200)
        return c

    def assert_ended(self, c, what):
        status, body = c.session()
        self.assertEqual((status, body.get("Code")), (401, "SessionEnded"), f"{what}: the session survived: {body}")
        status, body = c.call("OnsMqtt", "ListInstances")
        self.assertEqual(status, 401, f"{what}: a call still ran: {body}")
        # Ended for good, not just for one request.
        self.assertEqual(c.session()[0], 401)

    def test_password_reset_ends_the_session(self):
        self.make_user("reset1")
        c = self.signed_in("reset1")
        self.ram("UpdateLoginProfile", UserName="reset1", Password="N3w-Pa55word!")
        self.assert_ended(c, "password reset")
        self.assertEqual(Console(self.b).login("reset1@acme", "N3w-Pa55word!")[0], 200)

    def test_login_profile_update_without_password_ends_the_session(self):
        self.make_user("reset2")
        c = self.signed_in("reset2")
        self.ram("UpdateLoginProfile", UserName="reset2", PasswordResetRequired="true")
        self.assert_ended(c, "PasswordResetRequired set")

    def test_login_profile_deletion_ends_the_session_and_recreation_does_not_revive_it(self):
        self.make_user("noprof")
        c = self.signed_in("noprof")
        self.ram("DeleteLoginProfile", UserName="noprof")
        self.ram("CreateLoginProfile", UserName="noprof", Password=self.PW)  # same password, same user id
        self.assert_ended(c, "login profile deleted and re-created")

    def test_user_deleted_and_recreated_does_not_inherit_the_old_session(self):
        self.make_user("mallory")
        c = self.signed_in("mallory")
        self.assertEqual(c.call("OnsMqtt", "CreateGroupId", InstanceId=self.t.instance, GroupId="GID_mallory")[0], 403)
        self.ram("DeleteLoginProfile", UserName="mallory")
        self.ram("DeleteUser", UserName="mallory")
        # A new user of the same name, with full rights: the old session must not become it.
        self.make_user("mallory", "AliyunMQFullAccess")
        status, body = c.call("OnsMqtt", "CreateGroupId", InstanceId=self.t.instance, GroupId="GID_mallory")
        self.assertEqual((status, body.get("Code")), (401, "SessionEnded"), f"the old session acted as the new user: {body}")
        self.assertEqual(c.session()[0], 401, "ended for good")
        # The new user's own sign-in works.
        self.assertEqual(self.signed_in("mallory").call("OnsMqtt", "ListGroupId", InstanceId=self.t.instance)[0], 200)

    def test_user_deleted_by_another_process_ends_the_session(self):
        self.make_user("gone")
        c = self.signed_in("gone")
        self.b.admin("user", "delete", "--account", "acme", "--name", "gone")  # sluice admin, same data dir
        self.assert_ended(c, "user deleted with sluice admin")

    def test_a_renamed_user_keeps_its_session_under_its_own_id(self):
        self.make_user("oldname")
        c = self.signed_in("oldname")
        self.ram("UpdateUser", UserName="oldname", NewUserName="newname")
        # Someone else now takes the old name, with full rights.
        self.make_user("oldname", "AliyunMQFullAccess")
        status, body = c.session()
        self.assertEqual(status, 200, body)
        self.assertEqual(body["principal"]["name"], "newname", "the session follows the user's id")
        status, body = c.call("OnsMqtt", "CreateGroupId", InstanceId=self.t.instance, GroupId="GID_renamed")
        self.assertEqual(status, 403, f"the session acted as the new holder of the old name: {body}")
        self.assertIn("newname", body["AccessDeniedDetail"]["AuthPrincipalDisplayName"])

    def test_own_password_change_keeps_this_session_and_ends_the_others(self):
        self.make_user("self")
        here, elsewhere = self.signed_in("self"), self.signed_in("self")
        ok(self, here.password(self.PW, "S3lf-Pa55word!"), "own password change")
        ok(self, here.session(), "the session that changed the password")
        ok(self, here.call("OnsMqtt", "ListInstances"), "a call from that session")
        self.assert_ended(elsewhere, "another session of the same user after a password change")
        self.assertEqual(Console(self.b).login("self@acme", self.PW)[0], 401)
        self.assertEqual(Console(self.b).login("self@acme", "S3lf-Pa55word!")[0], 200)

    def test_root_password_change_ends_other_root_sessions(self):
        a, b = Console(self.b), Console(self.b)
        for c in (a, b):
            self.assertEqual(c.login("acme", "password-123")[0], 200)
        ok(self, a.password("password-123", "R00t-Pa55word!"), "root password change")
        ok(self, a.session(), "the root session that changed the password")
        self.assert_ended(b, "another root session after a password change")
        ok(self, a.password("R00t-Pa55word!", "password-123"), "root password back")


@harness.skip_on_mosquitto("device credentials are sluice-specific")
class SecretReads(TenantTestCase):
    """Item 4: a read-only grant never returns a secret."""
    ENV = {"SLUICE_MQ_AUTH_FAIL_BURST": "1000"}
    TENANTS = ("acme",)

    @classmethod
    def prepare(cls, b):
        b.env["SLUICE_MQ_DEFAULT_INSTANCE"] = cls.t.instance  # Custom auth without SNI / Host

    def rpc(self, action, key=None, product="OnsMqtt", **params):
        key_id, secret = key or (self.t.key_id, self.t.secret)
        return self.t.rpc(product, action, key_id=key_id, secret=secret, **params)

    def custom_policy(self, name, statements, user):
        doc = json.dumps({"Version": "1", "Statement": statements})
        ok(self, self.rpc("CreatePolicy", product="Ram", PolicyName=name, PolicyDocument=doc), "CreatePolicy")
        ok(self, self.rpc("AttachPolicyToUser", product="Ram", PolicyType="Custom", PolicyName=name, UserName=user),
           "AttachPolicyToUser")

    def register(self, device):
        cid = self.t.cid(device)
        dc = ok(self, self.rpc("RegisterDeviceCredential", InstanceId=self.t.instance, ClientId=cid),
                "RegisterDeviceCredential")["DeviceCredential"]
        return cid, dc

    def test_read_only_user_cannot_read_a_device_secret(self):
        cid, dc = self.register("ro-victim")
        ro = self.t.user("reader", "AliyunMQReadOnlyAccess")
        time.sleep(0.3)
        status, body = self.rpc("GetDeviceCredential", key=ro, InstanceId=self.t.instance, ClientId=cid)
        self.assertNotIn(dc["DeviceAccessKeySecret"], json.dumps(body), "a read-only user read the device secret")
        self.assertEqual(status, 403, body)
        self.assertEqual(body["Code"], "NoPermission")
        self.assertEqual(body["AccessDeniedDetail"]["AuthAction"], "mq:RegisterDeviceCredential")
        self.assertIn("mq:RegisterDeviceCredential", body["Message"])
        # The same through the console.
        ok(self, self.rpc("CreateUser", product="Ram", UserName="console-reader"), "CreateUser")
        ok(self, self.rpc("CreateLoginProfile", product="Ram", UserName="console-reader", Password="R3ader-Pa55word!"),
           "CreateLoginProfile")
        ok(self, self.rpc("AttachPolicyToUser", product="Ram", PolicyType="System", PolicyName="AliyunMQReadOnlyAccess",
                          UserName="console-reader"), "AttachPolicyToUser")
        c = Console(self.b)
        self.assertEqual(c.login("console-reader@acme", "R3ader-Pa55word!")[0], 200)
        status, body = c.call("OnsMqtt", "GetDeviceCredential", InstanceId=self.t.instance, ClientId=cid)
        self.assertNotIn(dc["DeviceAccessKeySecret"], json.dumps(body))
        self.assertEqual((status, body["AccessDeniedDetail"]["AuthAction"]), (403, "mq:RegisterDeviceCredential"))

    def test_the_refusal_leaves_the_device_credential_working(self):
        # The refusal protects the secret, not the device: what the reader would have
        # gained is a credential valid for every topic of the instance.
        cid, dc = self.register("harm")
        ro = self.t.user("reader2", "AliyunMQReadOnlyAccess")
        time.sleep(0.3)
        status, _ = self.rpc("GetDeviceCredential", key=ro, InstanceId=self.t.instance, ClientId=cid)
        self.assertEqual(status, 403)
        dev = self.track(MqttClient(self.b, cid, f"DeviceCredential|{dc['DeviceAccessKeyId']}|{self.t.instance}",
                                    sign(dc["DeviceAccessKeySecret"], cid)))
        self.assertEqual(dev.rc, 0, "the credential itself still works for its device")
        self.assertEqual(dev.subscribe("Sensors/#"), [1])

    def test_principals_allowed_to_mint_still_get_the_secret(self):
        cid, dc = self.register("minted")
        full = self.t.user("admin1", "AliyunMQFullAccess")
        self.rpc("CreateUser", product="Ram", UserName="getter")
        inst_arn = f"acs:mq:*:{self.t.account}:instance/{self.t.instance}"
        self.custom_policy("GetAndRegister", [{"Effect": "Allow", "Action": [
            "mq:MqttInstanceAccess", "mq:GetDeviceCredential", "mq:RegisterDeviceCredential"],
            "Resource": inst_arn}], "getter")
        getter = self.t.key("getter")
        self.rpc("CreateUser", product="Ram", UserName="getonly")
        self.custom_policy("GetOnly", [{"Effect": "Allow", "Action": ["mq:MqttInstanceAccess", "mq:GetDeviceCredential"],
                                        "Resource": inst_arn}], "getonly")
        getonly = self.t.key("getonly")
        time.sleep(0.3)
        for who, key in (("root", None), ("AliyunMQFullAccess", full), ("Get + Register", getter)):
            body = ok(self, self.rpc("GetDeviceCredential", key=key, InstanceId=self.t.instance, ClientId=cid), who)
            self.assertEqual(body["DeviceCredential"]["DeviceAccessKeySecret"], dc["DeviceAccessKeySecret"], who)
        status, body = self.rpc("GetDeviceCredential", key=getonly, InstanceId=self.t.instance, ClientId=cid)
        self.assertEqual((status, body["AccessDeniedDetail"]["AuthAction"]), (403, "mq:RegisterDeviceCredential"))
        self.assertEqual(body["AccessDeniedDetail"]["AuthResource"], inst_arn)
        # A Deny on minting wins over an Allow of mq:*.
        self.custom_policy("NoMinting", [{"Effect": "Deny", "Action": "mq:RegisterDeviceCredential",
                                          "Resource": inst_arn}], "admin1")
        time.sleep(0.3)
        status, body = self.rpc("GetDeviceCredential", key=full, InstanceId=self.t.instance, ClientId=cid)
        self.assertEqual((status, body["AccessDeniedDetail"]["NoPermissionType"]), (403, "ExplicitDeny"))

    def test_no_read_operation_returns_a_secret_to_a_read_only_user(self):
        t = self.t
        cid, dc = self.register("everything")
        custom_secret = "Cust0m-Secret-for-reads"
        ok(self, self.rpc("AddCustomAuthIdentity", InstanceId=t.instance, Username="cust-read", Secret=custom_secret,
                          IdentityType="USER", SignMode="ORIGIN"), "AddCustomAuthIdentity")
        tok = ok(self, self.rpc("ApplyToken", InstanceId=t.instance, Resources="Sensors/#", Actions="R,W",
                                ExpireTime=int(time.time() * 1000) + 3600_000), "ApplyToken")["Token"]
        ro = t.user("reader3", "AliyunMQReadOnlyAccess")
        time.sleep(0.3)
        secrets = {"device secret": dc["DeviceAccessKeySecret"], "custom-auth secret": custom_secret,
                   "token": tok, "root key secret": t.secret, "reader key secret": ro[1]}
        reads = [
            ("GetDeviceCredential", {"ClientId": cid}),
            ("ListDeviceCredentialClientId", {"GroupId": t.group}),
            ("QueryCustomAuthIdentity", {}),
            ("QueryCustomAuthIdentity", {"Username": "cust-read", "IdentityType": "USER"}),
            ("QueryCustomAuthPermission", {}),
            ("QueryCustomAuthConnectBlack", {}),
            ("QueryToken", {"Token": tok}),
            ("ListInstances", {}),
            ("ListGroupId", {}),
            ("ListTopic", {}),
            ("QuerySessionByClientId", {"ClientId": cid}),
            ("QueryMqttTraceDevice", {"ClientId": cid}),
        ]
        answered = 0
        for action, params in reads:
            for key in (ro, None):  # the reader, and root (no secret either, but the device one)
                status, body = self.rpc(action, key=key, InstanceId=t.instance, **params)
                text = json.dumps(body)
                answered += status == 200
                for what, s in secrets.items():
                    if key is None and action == "GetDeviceCredential" and what == "device secret":
                        continue  # root may mint, so root reads it (the test above)
                    self.assertNotIn(s, text, f"{action} answered the {what} to {'root' if key is None else 'the reader'}")
        self.assertGreater(answered, 10, "the read operations mostly answered")


@harness.skip_on_mosquitto("the console is sluice-specific")
class SignInHardening(TenantTestCase):
    """Item 13, console part: Secure cookie behind a trusted TLS proxy; sign-in throttled per
    login name and per source address, without one login name's failures locking another."""
    TENANTS = ("acme", "other")
    ENV = {"SLUICE_CONSOLE_TRUSTED_PROXIES": "127.0.0.250, 10.0.0.0/8"}

    @classmethod
    def prepare(cls, b):
        for alias in ("acme", "other"):
            for user in ("spray", "target", "owner", "bystander"):
                b.admin("user", "create", "--account", alias, "--name", user, "--password", "Us3r-Pa55word!")

    def test_cookie_is_secure_behind_a_trusted_tls_proxy_only(self):
        proxy = Console(self.b, source="127.0.0.250", headers={"X-Forwarded-Proto": "https",
                                                               "X-Forwarded-For": "192.0.2.7"})
        self.assertEqual(proxy.login("acme", "password-123")[0], 200)
        self.assertRegex(proxy.last_set_cookie, r"; Secure(;|$)", "TLS at a trusted proxy: the cookie must be Secure")
        self.assertEqual(proxy.request("POST", "logout", {})[0], 200)
        self.assertRegex(proxy.last_set_cookie, r"Max-Age=0.*; Secure|; Secure.*Max-Age=0")
        # Plain HTTP, directly: no Secure (a browser would drop the cookie on http://).
        direct = Console(self.b, source="127.0.0.251")
        self.assertEqual(direct.login("acme", "password-123")[0], 200)
        self.assertNotIn("Secure", direct.last_set_cookie)
        # Anyone else saying "https" is not believed.
        liar = Console(self.b, source="127.0.0.252", headers={"X-Forwarded-Proto": "https"})
        self.assertEqual(liar.login("acme", "password-123")[0], 200)
        self.assertNotIn("Secure", liar.last_set_cookie)

    def test_many_addresses_at_one_login_name_are_slowed(self):
        statuses = []
        for i in range(14):
            c = Console(self.b, source=f"127.0.1.{i + 1}")
            statuses.append(c.login("spray@acme", f"wrong-{i}-password")[0])
        self.assertEqual(statuses[:10], [401] * 10)
        self.assertEqual(set(statuses[10:]), {429}, f"one login name, many addresses: {statuses}")
        self.assertEqual(Console(self.b, source="127.0.1.99").login("spray@acme", "Us3r-Pa55word!")[0], 429,
                         "the right password from a new address waits too")
        # The same user name under another account is someone else.
        self.assertEqual(Console(self.b, source="127.0.1.100").login("spray@other", "Us3r-Pa55word!")[0], 200)
        # The root of the same account too (a different login name).
        self.assertEqual(Console(self.b, source="127.0.1.101").login("acme", "password-123")[0], 200)

    def test_an_attack_on_one_login_name_does_not_lock_another_from_the_same_address(self):
        # The owner of bystander@acme signs in from 127.0.2.1 while someone there and
        # elsewhere fails at target@acme: under the per-address bound, bystander is not locked.
        for i in range(12):
            Console(self.b, source=f"127.0.2.{i + 2}").login("target@acme", f"wrong-{i}-password")
        Console(self.b, source="127.0.2.1").login("target@acme", "wrong-password")
        self.assertEqual(Console(self.b, source="127.0.2.1").login("bystander@acme", "Us3r-Pa55word!")[0], 200)

    def test_a_user_keeps_signing_in_from_a_known_address_during_an_attack_on_its_name(self):
        self.assertEqual(Console(self.b, source="127.0.3.1").login("owner@other", "Us3r-Pa55word!")[0], 200)
        for i in range(12):
            Console(self.b, source=f"127.0.3.{i + 10}").login("owner@other", f"wrong-{i}-password")
        self.assertEqual(Console(self.b, source="127.0.3.99").login("owner@other", "Us3r-Pa55word!")[0], 429,
                         "a new address is throttled for the attacked name")
        self.assertEqual(Console(self.b, source="127.0.3.1").login("owner@other", "Us3r-Pa55word!")[0], 200,
                         "the owner's usual address is not locked by the attack")

    def test_the_per_address_bound_still_holds_across_login_names(self):
        c = Console(self.b, source="127.0.4.1")
        statuses = [c.login(f"nobody{i}@acme", "wrong-password")[0] for i in range(12)]
        self.assertEqual(statuses[-1], 429, statuses)
        self.assertEqual(c.login("bystander@other", "Us3r-Pa55word!")[0], 429)

    def test_forwarded_for_is_believed_from_a_trusted_proxy_only(self):
        # An untrusted client cannot dodge the per-address bound with X-Forwarded-For.
        statuses = [Console(self.b, source="127.0.5.1", headers={"X-Forwarded-For": f"198.51.100.{i}"})
                    .login(f"spoof{i}@acme", "wrong-password")[0] for i in range(12)]
        self.assertEqual(statuses[-1], 429, statuses)
        # Through the trusted proxy, each client is its own address.
        statuses = [Console(self.b, source="127.0.0.250", headers={"X-Forwarded-For": f"203.0.113.{i}"})
                    .login(f"proxied{i}@acme", "wrong-password")[0] for i in range(12)]
        self.assertEqual(set(statuses), {401}, statuses)
        # A client's own X-Forwarded-For entries before the proxy's are not believed either.
        statuses = [Console(self.b, source="127.0.0.250", headers={"X-Forwarded-For": f"198.51.100.{i}, 203.0.113.77"})
                    .login(f"chain{i}@acme", "wrong-password")[0] for i in range(12)]
        self.assertEqual(statuses[-1], 429, statuses)


if __name__ == "__main__":
    unittest.main(verbosity=2)
