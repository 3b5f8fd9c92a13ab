#!/usr/bin/python3
"""Authorization of PUBLISH / SUBSCRIBE by RAM policies (SPEC §3-4) with real clients:
AliyunMQPubOnlyAccess / AliyunMQSubOnlyAccess, a custom policy on one parent topic, a Deny
on one subtopic, a grant at ResourceGroup scope that follows the instance when it moves,
and rights revoked while connected (gone within a second)."""
import json
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from auth_harness import MqttClient, Tenant, TenantTestCase, sign  # noqa: E402

V5_NOT_AUTHORIZED = 0x87


@harness.skip_on_mosquitto("RAM authorization is sluice-specific")
class RamAuthorization(TenantTestCase):
    ENV = {"SLUICE_MQ_AUTH_FAIL_BURST": "1000"}

    @classmethod
    def prepare(cls, b):
        b.admin("topic", "create", "--account", "acme", "--instance", cls.t.instance, "--topic", "Other")

    def arn(self, rel):
        return f"acs:mq:*:{self.t.account}:{rel}"

    def test_pub_only_user_publishes_and_cannot_subscribe(self):
        key = self.t.user("pubber", "AliyunMQPubOnlyAccess")
        time.sleep(0.5)
        watcher = self.root("w1")
        self.assertEqual(watcher.subscribe("Sensors/#"), [1])
        for version in (4, 5):
            c = self.connect(key, f"pub{version}", version=version)
            self.assertEqual(c.rc, 0, self.b.log_tail())
            self.assertTrue(c.publish("Sensors/pubonly", f"v{version}".encode()))
            self.assertEqual(watcher.get().payload, f"v{version}".encode())
            self.assertEqual(c.subscribe("Sensors/#"), [V5_NOT_AUTHORIZED] if version == 5 else [128])

    def test_sub_only_user_subscribes_and_cannot_publish(self):
        key = self.t.user("subber", "AliyunMQSubOnlyAccess")
        time.sleep(0.5)
        c = self.connect(key, "sub5")
        self.assertEqual(c.rc, 0, self.b.log_tail())
        self.assertEqual(c.subscribe("Sensors/#"), [1])
        root = self.root("r2")
        self.assertTrue(root.publish("Sensors/subonly", b"to subber"))
        self.assertEqual(c.get().payload, b"to subber")
        c.publish("Sensors/subonly", b"denied")  # v5: PUBACK 0x87, not routed
        self.assertIsNone(c.none(0.7))
        self.assertFalse(c.disconnected.is_set())
        v3 = self.connect(key, "sub3", version=4)
        self.assertEqual(v3.rc, 0)
        v3.publish("Sensors/subonly", b"denied", qos=1, timeout=2)
        self.assertTrue(v3.disconnected.wait(3), "MQTT 3.1.1: a denied PUBLISH closes the connection")

    def test_custom_policy_on_one_parent_topic(self):
        inst = self.t.instance
        self.policy("SensorsOnly", [{
            "Effect": "Allow", "Action": ["mq:MqttInstanceAccess", "mq:PUB", "mq:SUB"],
            "Resource": [self.arn(f"instance/{inst}"), self.arn(f"topic/{inst}/Sensors"),
                         self.arn(f"groupId/{inst}/GID_dev")]}])
        self.b.admin("user", "create", "--account", "acme", "--name", "sensors")
        self.b.admin("attach", "--account", "acme", "--principal", "user:sensors", "--policy", "SensorsOnly",
                     "--type", "Custom")
        key = self.t.key("sensors")
        time.sleep(0.5)
        c = self.connect(key, "sensors")
        self.assertEqual(c.rc, 0, self.b.log_tail())
        self.assertEqual(c.subscribe("Sensors/a/b"), [1])  # the parent grant covers subtopics
        self.assertEqual(c.subscribe("Other/#"), [V5_NOT_AUTHORIZED])
        self.assertTrue(c.publish("Sensors/a/b", b"mine"))
        self.assertEqual(c.get().payload, b"mine")

    def test_deny_on_one_subtopic_and_revocation_while_connected(self):
        key = self.t.user("full", "AliyunMQFullAccess")
        time.sleep(0.5)
        c = self.connect(key, "full")
        self.assertEqual(c.rc, 0, self.b.log_tail())
        self.assertEqual(c.subscribe("Sensors/secret"), [1])
        self.assertEqual(c.subscribe("Sensors/open"), [1])
        root = self.root("r4")
        self.assertTrue(root.publish("Sensors/secret", b"before"))
        self.assertEqual(c.get().payload, b"before")
        self.policy("DenySecret", [{"Effect": "Deny", "Action": "mq:*",
                                    "Resource": self.arn(f"topic/{self.t.instance}/Sensors/secret")}])
        self.b.admin("attach", "--account", "acme", "--principal", "user:full", "--policy", "DenySecret",
                     "--type", "Custom")
        start = time.monotonic()
        # Within a second the subscription to the denied subtopic is gone; the other stays.
        deadline = start + 1.0
        while time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertTrue(root.publish("Sensors/secret", b"after"))
        self.assertTrue(root.publish("Sensors/open", b"open"))
        self.assertEqual(c.get().payload, b"open")
        self.assertIsNone(c.none(0.5))
        self.assertFalse(c.disconnected.is_set())
        self.assertEqual(c.subscribe("Sensors/secret"), [V5_NOT_AUTHORIZED])
        # Detaching the only Allow takes even the connection within a second.
        self.b.admin("detach", "--account", "acme", "--principal", "user:full", "--policy", "AliyunMQFullAccess")
        start = time.monotonic()
        self.assertTrue(c.disconnected.wait(2), "still connected after its rights were revoked")
        took = time.monotonic() - start
        sys.stderr.write(f"revoked right: disconnected {took * 1000:.0f} ms after the admin command returned\n")
        # SPEC: within 1 s (typically 0.3-0.6 s: 200 ms store poll + 250 ms check); the margin
        # absorbs scheduling delay on a loaded CI machine.
        self.assertLess(took, 1.5)
        self.assertEqual(c.disconnect_rc, V5_NOT_AUTHORIZED)

    def test_grant_at_resource_group_scope_follows_the_instance(self):
        b = self.b
        t2 = Tenant(b, "rgco")
        rg = b.admin("resource-group", "create", "--account", "rgco", "--name", "team-a")
        rg = rg.split()[0]
        b.admin("user", "create", "--account", "rgco", "--name", "ops")
        b.admin("attach", "--account", "rgco", "--principal", "user:ops", "--policy", "AliyunMQFullAccess",
                "--resource-group", rg)
        key = t2.key("ops")
        time.sleep(0.5)
        self.assertEqual(self.connect(key, "ops1", tenant=t2).rc, V5_NOT_AUTHORIZED)  # still in the default group
        b.admin("resource-group", "move", "--account", "rgco", "--to", rg, "--resource", f"instance/{t2.instance}")
        time.sleep(0.5)
        c = self.connect(key, "ops2", tenant=t2)
        self.assertEqual(c.rc, 0, b.log_tail())
        self.assertEqual(c.subscribe("Sensors/#"), [1])
        # Moving it back takes the right away from the connected client within a second.
        out = b.admin("resource-group", "list", "--account", "rgco")
        default = next(line.split()[0] for line in out.splitlines() if "default" in line.lower())
        b.admin("resource-group", "move", "--account", "rgco", "--to", default, "--resource",
                f"instance/{t2.instance}")
        self.assertTrue(c.disconnected.wait(2))


if __name__ == "__main__":
    harness.main()
