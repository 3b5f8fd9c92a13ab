#!/usr/bin/python3
"""Instance editions (issue 21): basic, professional, platinum each give an instance
default limits (docs/spec.md "Editions"), shown by ListInstances (Settings,
EditionDefaults, OverriddenSettings) and adjustable per instance with UpdateInstance;
a change of edition moves the defaults and keeps what was set explicitly. The limits
are enforced: connections per instance (CONNACK 0x97), publishes per second across
the instance (PUBACK 0x97, the other clients' own rates notwithstanding)."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import mqtt_raw as raw  # noqa: E402
from auth_harness import TenantTestCase, sign  # noqa: E402

QUOTA_EXCEEDED = 0x97


@harness.skip_on_mosquitto("ApsaraMQ instance editions are sluice-specific")
class InstanceEditions(TenantTestCase):
    TENANTS = ("editions",)

    def setUp(self):
        super().setUp()
        self.conns = []
        st, body = self.t.rpc("OnsMqtt", "CreateInstance", InstanceName="basic-one", InstanceType="basic")
        self.assertEqual(st, 200, body)
        self.inst = body["InstanceId"]
        self.created = body["Instance"]
        for action, kw in (("CreateTopic", {"Topic": "Sensors"}), ("CreateGroupId", {"GroupId": "GID_dev"})):
            st, body = self.t.rpc("OnsMqtt", action, InstanceId=self.inst, **kw)
            self.assertEqual(st, 200, body)

    def tearDown(self):
        for c in self.conns:
            c.close()
        self.t.rpc("OnsMqtt", "ReleaseInstance", InstanceId=self.inst)
        super().tearDown()

    def listed(self):
        st, body = self.t.rpc("OnsMqtt", "ListInstances")
        self.assertEqual(st, 200, body)
        return next(i for i in body["Instances"] if i["InstanceId"] == self.inst)

    def update(self, **params):
        st, body = self.t.rpc("OnsMqtt", "UpdateInstance", InstanceId=self.inst, **params)
        self.assertEqual(st, 200, body)
        time.sleep(0.8)  # connections apply a new snapshot on their next tick
        return body["Instance"]

    def connect(self, device, expect=0):
        cid = f"GID_dev@@@{device}"
        c = raw.RawConn(self.b.port("tcp"))
        self.conns.append(c)
        c.send(raw.connect(cid, username=f"Signature|{self.t.key_id}|{self.inst}",
                           password=sign(self.t.secret, cid)))
        ack = c.read()
        self.assertEqual(ack.type, raw.CONNACK)
        self.assertEqual(ack.reason, expect, f"CONNACK of {cid}")
        return c

    def puback(self, c, pid):
        c.send(raw.publish("Sensors/e", b"x", qos=1, pid=pid))
        return c.expect(raw.PUBACK).reason

    def test_each_edition_has_its_defaults_shown(self):
        i = self.created
        self.assertEqual((i["Edition"], i["InstanceType"]), ("basic", 0))
        self.assertEqual(i["Settings"]["MaxConnections"], 1000)
        self.assertEqual(i["Settings"]["MaxInstanceMessagesPerSecond"], 1000)
        self.assertEqual(i["Settings"]["MaxMessagesPerSecond"], 20)
        self.assertEqual(i["Settings"]["MaxSubscriptionsPerClient"], 30)
        self.assertEqual(i["Settings"]["MaxPayload"], 65536)
        self.assertEqual(i["EditionDefaults"], i["Settings"])
        self.assertEqual(i["OverriddenSettings"], [])
        st, body = self.t.rpc("OnsMqtt", "CreateInstance", InstanceName="plat", InstanceType="platinum",
                              MaxPayload="131072")
        self.assertEqual(st, 200, body)
        try:
            p = body["Instance"]
            self.assertEqual((p["Edition"], p["InstanceType"]), ("platinum", 1))
            self.assertEqual(p["Settings"]["MaxConnections"], 100000)
            self.assertEqual(p["Settings"]["MaxPayload"], 131072)
            self.assertEqual(p["EditionDefaults"]["MaxPayload"], 65536)
            self.assertEqual(p["OverriddenSettings"], ["MaxPayload"])
        finally:
            self.t.rpc("OnsMqtt", "ReleaseInstance", InstanceId=body.get("InstanceId", ""))
        st, body = self.t.rpc("OnsMqtt", "CreateInstance", InstanceName="x", InstanceType="gold")
        self.assertEqual((st, body["Code"]), (400, "InvalidParameter.InstanceType"), body)

    def test_a_change_of_edition_keeps_the_overrides(self):
        i = self.update(MaxConnections="2")
        self.assertEqual(i["OverriddenSettings"], ["MaxConnections"])
        i = self.update(InstanceType="platinum")
        self.assertEqual(i["Edition"], "platinum")
        self.assertEqual(i["Settings"]["MaxConnections"], 2)                 # kept
        self.assertEqual(i["Settings"]["MaxInstanceMessagesPerSecond"], 100000)  # the new edition's
        self.assertEqual(i["Settings"]["MaxMessagesPerSecond"], 0)
        self.assertEqual(self.listed()["Settings"], i["Settings"])
        # Enforced: two connections, the third refused with Quota exceeded.
        self.connect("c1")
        self.connect("c2")
        self.connect("c3", expect=QUOTA_EXCEEDED)
        # Back to the edition's default: room again.
        i = self.update(ResetSettings="MaxConnections")
        self.assertEqual((i["Settings"]["MaxConnections"], i["OverriddenSettings"]), (100000, []))
        self.connect("c4")
        st, body = self.t.rpc("OnsMqtt", "UpdateInstance", InstanceId=self.inst, ResetSettings="NoSuch")
        self.assertEqual((st, body["Code"]), (400, "InvalidParameter.ResetSettings"), body)

    def test_sluice_admin_edition_and_reset(self):
        a = ("--account", self.t.alias)
        inst = self.b.admin("instance", "create", *a, "--name", "adm", "--edition", "basic", "--lax-topic")
        try:
            self.b.admin("instance", "update", *a, "--instance", inst, "--edition", "platinum",
                         "--set", "MaxConnections=5")
            shown = self.b.admin("instance", "show", *a, "--instance", inst)
            self.assertIn("InstanceType: platinum", shown)
            self.assertIn("MaxConnections: 5 (set for this instance)", shown)
            self.assertIn("StrictTopic: false (set for this instance)", shown)
            self.assertIn("MaxInstanceMessagesPerSecond: 100000\n", shown)
            self.b.admin("instance", "update", *a, "--instance", inst, "--reset", "all")
            shown = self.b.admin("instance", "show", *a, "--instance", inst)
            self.assertIn("MaxConnections: 100000\n", shown)
            self.assertIn("StrictTopic: true\n", shown)
        finally:
            self.b.admin("instance", "release", *a, "--instance", inst)

    def test_messages_per_second_across_the_instance(self):
        # Per client 20/s on basic; across the instance 6/s: two clients at 4 each
        # are each within their own rate, together over the instance's.
        self.update(MaxInstanceMessagesPerSecond="6")
        a, b = self.connect("ra"), self.connect("rb")
        time.sleep(1.05 - time.time() % 1)  # the start of a wall-clock second
        codes = []
        for n in range(4):
            codes += [self.puback(a, n + 1), self.puback(b, n + 1)]
        self.assertEqual(codes[:6], [0] * 6, codes)
        self.assertEqual(codes[6:], [QUOTA_EXCEEDED] * 2, codes)
        time.sleep(1.05 - time.time() % 1)  # the next second: allowed again
        self.assertEqual(self.puback(a, 9), 0)
        c = self.connect("rc")  # both still connected; a third client can publish
        self.assertEqual(self.puback(c, 1), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
