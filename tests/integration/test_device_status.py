#!/usr/bin/python3
"""The device status query and the instance endpoints (SPEC §7): QuerySessionByClientId
answers the cloud's OnlineStatus plus where the client connected from, its clean-session
flag and its subscriptions; the instance description lists the TCP, TLS, WS and WSS
endpoints clients connect to."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from auth_harness import MqttClient, TenantTestCase, sign  # noqa: E402


@harness.skip_on_mosquitto("ApsaraMQ management is sluice-specific")
class DeviceStatus(TenantTestCase):
    ENV = {"SLUICE_MQ_ENDPOINT_HOST": "mqtt.example.test"}
    TENANTS = ("status",)

    def test_session_details_online_and_offline(self):
        t = self.t
        cid = t.cid("dev1")
        c = MqttClient(self.b, cid, t.sig_user(t.key_id), sign(t.secret, cid), version=4, clean=False)
        self.assertEqual(c.rc, 0)
        self.assertEqual(c.subscribe("Sensors/+/temp", qos=1), [1])
        status, body = t.rpc("OnsMqtt", "QuerySessionByClientId", InstanceId=t.instance, ClientId=cid)
        self.assertEqual(status, 200, body)
        self.assertIs(body["OnlineStatus"], True)
        self.assertEqual(body["RemoteIp"], harness.HOST)
        self.assertIs(body["CleanSession"], False)
        self.assertEqual(body["Subscriptions"], [{"TopicFilter": "Sensors/+/temp", "Qos": 1}])
        c.close()
        deadline = time.time() + 5
        while time.time() < deadline:
            status, body = t.rpc("OnsMqtt", "QuerySessionByClientId", InstanceId=t.instance, ClientId=cid)
            if not body.get("OnlineStatus"):
                break
            time.sleep(0.1)
        self.assertIs(body["OnlineStatus"], False)  # the persistent session stays, offline
        self.assertEqual(body["Subscriptions"], [{"TopicFilter": "Sensors/+/temp", "Qos": 1}])
        status, body = t.rpc("OnsMqtt", "QuerySessionByClientId", InstanceId=t.instance, ClientId=t.cid("never"))
        self.assertEqual((status, body["OnlineStatus"]), (200, False))
        self.assertNotIn("RemoteIp", body)  # no session: nothing more to say

    def test_instance_endpoints(self):
        t = self.t
        status, body = t.rpc("OnsMqtt", "ListInstances")
        self.assertEqual(status, 200, body)
        inst = [i for i in body["Data"] if i["InstanceId"] == t.instance][0] if "Data" in body else None
        if inst is None:  # the list's field name
            inst = [i for i in next(v for v in body.values() if isinstance(v, list)) if i["InstanceId"] == t.instance][0]
        ep = inst["Endpoints"]
        self.assertEqual(ep["Tcp"], f"mqtt.example.test:{self.b.mqtt_port}")
        self.assertEqual(ep["Tls"], f"mqtt.example.test:{self.b.mqtts_port}")
        self.assertEqual(ep["Ws"], f"mqtt.example.test:{self.b.ws_port}/mqtt")
        self.assertEqual(ep["Wss"], f"mqtt.example.test:{self.b.wss_port}/mqtt")


if __name__ == "__main__":
    unittest.main(verbosity=2)
