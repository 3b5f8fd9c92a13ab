#!/usr/bin/python3
"""Tenant isolation (issue 7 §5): every OnsMqtt operation that names an instance,
called by another account with that account's own valid key, is refused and leaves
the instance untouched; ResourceManager calls on another account's resource groups
are refused; MQTT clients of one account cannot reach another's instance, and two
instances of one account never share messages, retained messages or sessions."""
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from auth_harness import MqttClient, TenantTestCase, sign  # noqa: E402

# Codes that say "not yours": the instance does not exist for the caller, or no right.
REFUSALS = {"EntityNotExist.Instance", "NoPermission", "EntityNotExist.ResourceGroup",
            "EntityNotExist.Resource", "EntityNotExist.ResourceGroupId",
            "EntityNotExist.Token"}  # the same answer as for a token that does not exist: nothing leaks


def operations():
    """(action, required parameters) of every OnsMqtt operation in docs/api.yaml."""
    src = os.environ.get("SLUICE_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
    with open(os.path.join(src, "docs", "api.yaml")) as f:
        doc = f.read()
    out = []
    for m in re.finditer(r'"/\?Action=(\w+)&Version=([\d-]+)":\s*\n\s*post:\s*\n\s*operationId: (\w+)_\w+\n(.*?)'
                         r'(?=\n  "/|\ncomponents:|\Z)', doc, re.S):
        action, _, product, body = m.groups()
        if product == "OnsMqtt":
            out.append((action, re.findall(r'name: "([\w.]+)", in: query, required: true', body)))
    return out


@harness.skip_on_mosquitto("ApsaraMQ tenancy is sluice-specific")
class Isolation(TenantTestCase):
    TENANTS = ("alpha", "zulu")

    @classmethod
    def prepare(cls, b):
        cls.a, cls.z = cls.tenants
        cls.a2 = b.admin("instance", "create", "--account", "alpha", "--name", "alpha-two")
        b.admin("topic", "create", "--account", "alpha", "--instance", cls.a2, "--topic", "Sensors")
        b.admin("mq-group", "create", "--account", "alpha", "--instance", cls.a2, "--group", "GID_dev")

    def rpc(self, tenant, product, action, **params):
        return tenant.rpc(product, action, **params)

    def test_every_instance_operation_by_another_account_is_refused(self):
        a = self.a
        # Something to steal: a tag and a live token of alpha's instance.
        status, body = self.rpc(a, "OnsMqtt", "TagResources", ResourceType="instance", **{
            "ResourceId.1": a.instance, "Tag.1.Key": "env", "Tag.1.Value": "prod-secret-tag"})
        self.assertEqual(status, 200, body)
        status, body = self.rpc(a, "OnsMqtt", "ApplyToken", InstanceId=a.instance, Resources="Sensors/#", Actions="R",
                                ExpireTime=int(time.time() * 1000) + 3600_000)
        self.assertEqual(status, 200, body)
        token = body["Token"]
        extra = {"ApplyToken": {"ExpireTime": int(time.time() * 1000) + 3600_000},
                 "TagResources": {"Tag.1.Key": "env", "Tag.1.Value": "pwned"},
                 "UntagResources": {"TagKey.1": "env"},
                 "BatchQuerySessionByClientIds": {"ClientIdList.1": a.cid("victim")},
                 "CreateRule": {"SourceTopic": "Sensors/#"}, "UpdateRule": {"SourceTopic": "Sensors/#"}}
        fill = {"Topic": "Sensors", "GroupId": "GID_dev", "ClientId": a.cid("victim"), "Resources": "Sensors/#",
                "Actions": "R", "Token": token, "MsgId": "m", "Username": "u", "IdentityType": "USER",
                "Secret": "s3cret-s3cret", "SignMode": "ORIGIN", "Identity": "u", "PermitAction": "PUB",
                "Effect": "ALLOW", "MqttTopic": "Sensors/x", "Payload": "x", "ResourceType": "instance",
                "InstanceName": "x", "InstanceId": a.instance,
                # CA and device certificates (issue 18) name the instance MqttInstanceId.
                "MqttInstanceId": a.instance, "Sn": "ab12", "CaSn": "ab12", "DeviceSn": "cd34", "CaName": "x",
                "CaContent": "x", "VerificationContent": "x",
                # Data rules (issue 19): a rule on alpha's instance would copy its messages out.
                "RuleName": "steal", "RuleType": "outflow", "TargetType": "webhook",
                "TargetConfig": '{"Url": "http://127.0.0.1:9/steal"}'}
        tried, wrong = 0, []
        for action, required in operations():
            if action in ("CreateInstance", "ListInstances"):
                continue
            params = {}
            for name in required:
                if name == "ResourceId.N":
                    params["ResourceId.1"] = a.instance
                else:
                    params[name] = fill[name]
            if "InstanceId" not in params and "MqttInstanceId" not in params and "ResourceId.1" not in params:
                continue
            if action == "UpdateInstance":
                params["MaxConnections"] = "1"
            params.update(extra.get(action, {}))
            status, body = self.rpc(self.z, "OnsMqtt", action, **params)
            tried += 1
            if action == "ListTagResources" and status == 200 and "prod-secret-tag" not in json.dumps(body):
                continue  # a list filtered to the caller's own resources: nothing of alpha's in it
            if status == 200 or body.get("Code") not in REFUSALS:
                wrong.append((action, status, body.get("Code"), body.get("Message")))
        self.assertGreater(tried, 30)
        self.maxDiff = None
        self.assertEqual(wrong, [], "operations on another account's instance that were not refused as such")
        # Nothing of alpha's changed, and zulu's list does not show it.
        status, body = self.rpc(a, "OnsMqtt", "ListTopic", InstanceId=a.instance)
        self.assertEqual(status, 200, body)
        self.assertIn("Sensors", json.dumps(body))
        status, body = self.rpc(a, "OnsMqtt", "QueryToken", InstanceId=a.instance, Token=token)
        self.assertEqual((status, body.get("TokenStatus")), (200, True), body)
        status, body = self.rpc(a, "OnsMqtt", "ListTagResources", ResourceType="instance", **{"ResourceId.1": a.instance})
        self.assertIn("prod-secret-tag", json.dumps(body))
        status, body = self.rpc(self.z, "OnsMqtt", "ListInstances")
        self.assertEqual(status, 200, body)
        self.assertNotIn(a.instance, json.dumps(body))
        self.assertEqual(MqttClient(self.b, a.cid("still"), a.sig_user(a.key_id), sign(a.secret, a.cid("still"))).rc, 0)

    def test_resource_groups_of_another_account_are_refused(self):
        status, body = self.rpc(self.a, "ResourceManager", "ListResourceGroups")
        self.assertEqual(status, 200, body)
        rg = json.dumps(body)
        rg_id = re.search(r'"Id":\s*"([^"]+)"', rg).group(1)
        for action, params in [("GetResourceGroup", {"ResourceGroupId": rg_id}),
                               ("UpdateResourceGroup", {"ResourceGroupId": rg_id, "NewDisplayName": "pwned"}),
                               ("DeleteResourceGroup", {"ResourceGroupId": rg_id}),
                               ("AttachPolicy", {"ResourceGroupId": self.a.account.split()[0] if self.a.account else rg_id,
                                                 "PolicyType": "System", "PolicyName": "AdministratorAccess",
                                                 "PrincipalType": "IMSUser", "PrincipalName": "x@zulu"}),
                               ("MoveResources", {"ResourceGroupId": rg_id, "Resources.1.ResourceId": self.a.instance,
                                                  "Resources.1.Service": "mq", "Resources.1.ResourceType": "instance",
                                                  "Resources.1.RegionId": "local"})]:
            status, body = self.rpc(self.z, "ResourceManager", action, **params)
            self.assertNotEqual(status, 200, f"{action}: {body}")

    def test_mqtt_across_accounts_and_instances(self):
        a, z = self.a, self.z
        # zulu's key, alpha's instance: refused at CONNECT.
        cid = a.cid("intruder")
        self.assertNotEqual(MqttClient(self.b, cid, f"Signature|{z.key_id}|{a.instance}", sign(z.secret, cid)).rc, 0)
        # Two instances of one account: same client id, same topic, nothing shared.
        u1, u2 = a.sig_user(a.key_id), f"Signature|{a.key_id}|{self.a2}"
        pub2 = MqttClient(self.b, a.cid("p"), u2, sign(a.secret, a.cid("p")))
        self.assertTrue(pub2.publish("Sensors/r", b"retained-in-two", retain=True))
        sub1 = MqttClient(self.b, a.cid("s"), u1, sign(a.secret, a.cid("s")))
        self.assertEqual(sub1.subscribe("Sensors/#"), [1])
        self.assertIsNone(sub1.none(0.5), "instance one saw instance two's retained message")
        self.assertTrue(pub2.publish("Sensors/x", b"two"))
        self.assertIsNone(sub1.none(0.5), "instance one saw instance two's message")
        sub2 = MqttClient(self.b, a.cid("s"), u2, sign(a.secret, a.cid("s")))  # same client id, other instance
        self.assertTrue(sub1.connected.is_set() and not sub1.disconnected.is_set(),
                        "a client id in another instance took the session over")
        for c in (pub2, sub1, sub2):
            c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
