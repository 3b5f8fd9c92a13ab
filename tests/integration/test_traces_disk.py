#!/usr/bin/python3
"""Traces on disk (issue 21): device traces (on by default, as the cloud) and message
traces (an instance's MessageTrace switch) are kept in <data-dir>/traces.db, mode 0600,
and are still answered by QueryMqttTrace* after a real restart of the server."""
import os
import stat
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from auth_harness import TenantTestCase  # noqa: E402


@harness.skip_on_mosquitto("ApsaraMQ traces are sluice-specific")
class TracesSurviveARestart(TenantTestCase):
    TENANTS = ("trace",)

    def traces(self, action, **params):
        now = int(time.time() * 1000)
        status, body = self.t.rpc("OnsMqtt", action, InstanceId=self.t.instance, BeginTime=str(now - 3600_000),
                                  EndTime=str(now + 1000), **params)
        self.assertEqual(status, 200, body)
        return body

    def test_device_and_message_traces_after_restart(self):
        self.b.admin("instance", "update", "--account", self.t.alias, "--instance", self.t.instance,
                     "--set", "MessageTrace=true")
        time.sleep(0.8)
        sub = self.root("sub")
        self.assertEqual(sub.subscribe("Sensors/t", qos=1), [1])
        pub = self.root("pub")
        self.assertTrue(pub.publish("Sensors/t", b"traced", qos=1))
        sub.get()
        status, sent = self.t.rpc("OnsMqtt", "SendMessage", InstanceId=self.t.instance, MqttTopic="Sensors/t",
                                  Payload="api")
        self.assertEqual(status, 200, sent)
        msg = sent["MsgId"]
        sub.get()
        pub.close()
        sub.close()
        time.sleep(0.5)
        before_dev = self.traces("QueryMqttTraceDevice", ClientId=self.t.cid("pub"))["DeviceInfoList"]
        before_pub = self.traces("QueryMqttTraceMessagePublish", MsgId=msg)["MessageTraceLists"]
        self.assertTrue(before_dev)
        self.assertTrue(before_pub)

        self.b.restart()

        path = os.path.join(self.b.data_dir, "traces.db")
        self.assertTrue(os.path.exists(path))
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        after_dev = self.traces("QueryMqttTraceDevice", ClientId=self.t.cid("pub"))["DeviceInfoList"]
        actions = [t["Action"] for t in after_dev]
        self.assertIn("connect", actions)
        self.assertIn("disconnect", actions)
        self.assertEqual(after_dev[:len(before_dev)], before_dev)
        after_pub = self.traces("QueryMqttTraceMessagePublish", MsgId=msg)["MessageTraceLists"]
        self.assertEqual(after_pub, before_pub)
        delivered = self.traces("QueryMqttTraceMessageSubscribe", MsgId=msg)["MessageTraceLists"]
        self.assertEqual([t["ClientId"] for t in delivered], [self.t.cid("sub")])


if __name__ == "__main__":
    unittest.main()
