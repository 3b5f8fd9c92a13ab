#!/usr/bin/python3
"""Per-instance metrics (issue 21): /metrics carries sluice_instance_* series labelled
instance="ID" (connections, messages in / out, denials, queue depth) that move with
that instance's traffic only, and DescribeMqttMetaData gives the console the same
figures per instance. Real clients: Paho, two tenants with an instance each."""
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from auth_harness import TenantTestCase  # noqa: E402

SAMPLE = re.compile(r'^(sluice_instance_[a-z_]+)\{instance="([^"]*)"\} (\d+)$')


@harness.skip_on_mosquitto("/metrics is sluice's")
class InstanceMetrics(TenantTestCase):
    TENANTS = ("busy", "quiet")

    def per_instance(self):
        out = {}
        for line in self.b.metrics_text().splitlines():
            m = SAMPLE.match(line)
            if m:
                out[(m.group(1), m.group(2))] = int(m.group(3))
        return out

    def wait_for(self, pred, what, timeout=3.0):
        deadline = time.monotonic() + timeout
        while True:
            m = self.per_instance()
            if pred(m):
                return m
            if time.monotonic() > deadline:
                self.fail(f"{what}: {m}")
            time.sleep(0.1)

    def test_series_follow_their_own_instance(self):
        busy, quiet = self.tenants
        sub = self.root("sub", clean=True)
        self.assertEqual(sub.subscribe("Sensors/#", qos=1), [1])
        pub = self.root("pub")
        for i in range(5):
            self.assertTrue(pub.publish("Sensors/a", b"x%d" % i, qos=1))
        for _ in range(5):
            sub.get()
        # A publish outside the instance's topics is refused (no parent topic "Other").
        pub.publish("Other/x", b"no", qos=1, timeout=2.0)
        # A persistent subscriber that went away keeps messages queued.
        off = self.root("offline", version=4, clean=False)
        self.assertEqual(off.subscribe("Sensors/q", qos=1), [1])
        off.close()
        time.sleep(0.3)
        for i in range(3):
            self.assertTrue(pub.publish("Sensors/q", b"q%d" % i, qos=1))

        b, q = busy.instance, quiet.instance
        m = self.wait_for(lambda m: m.get(("sluice_instance_messages_in_total", b), 0) >= 8 and
                          m.get(("sluice_instance_denied_total", b), 0) >= 1 and
                          m.get(("sluice_instance_queued_messages", b), 0) >= 3, "busy instance's series")
        self.assertEqual(m[("sluice_instance_connections", b)], 2)  # sub and pub
        self.assertGreaterEqual(m[("sluice_instance_messages_out_total", b)], 5)
        for f in ("connections", "messages_in_total", "messages_out_total", "denied_total", "queued_messages"):
            self.assertEqual(m[(f"sluice_instance_{f}", q)], 0, f)  # the other tenant's instance: untouched

        # The console's source: DescribeMqttMetaData, per instance.
        status, meta = busy.rpc("OnsMqtt", "DescribeMqttMetaData")
        self.assertEqual(status, 200, meta)
        mine = [i for i in meta["Instances"] if i["InstanceId"] == b][0]
        self.assertGreaterEqual(mine["Denied"], 1)
        self.assertGreaterEqual(mine["QueuedMessages"], 3)
        self.assertEqual(mine["OnlineClientCount"], 2)
        self.assertNotIn(q, [i["InstanceId"] for i in meta["Instances"]])  # another account's: not shown


if __name__ == "__main__":
    unittest.main()
