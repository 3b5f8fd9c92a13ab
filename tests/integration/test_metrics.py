#!/usr/bin/python3
"""GET /metrics (Prometheus text) on the HTTP port: counters move after traffic. Sluice only."""
import os
import re
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from mqtt_raw import (  # noqa: E402
    PUBACK, PUBLISH, SUBACK, ack, connected, disconnect, publish, subscribe)

REQUIRED = ["sluice_connections", "sluice_messages_in_total", "sluice_messages_out_total",
            "sluice_bytes_in_total", "sluice_bytes_out_total", "sluice_subscriptions",
            "sluice_dropped_total"]
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(\s+\d+)?$")


def parse(text):
    """{name: summed value over label sets}; asserts the text is well-formed."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            if line.startswith("# TYPE"):
                parts = line.split()
                assert len(parts) == 4 and parts[3] in (
                    "counter", "gauge", "histogram", "summary", "untyped"), line
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(3))
    return out


@harness.skip_on_mosquitto("/metrics is sluice's")
class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.b = harness.Broker().start()

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()

    def metrics(self):
        return parse(self.b.metrics_text())

    def wait_for(self, pred, what, timeout=3.0):
        deadline = time.monotonic() + timeout
        while True:
            m = self.metrics()
            if pred(m):
                return m
            if time.monotonic() > deadline:
                self.fail(f"{what}; metrics now: "
                          f"{ {k: v for k, v in m.items() if k.startswith('sluice_')} }")
            time.sleep(0.1)

    def test_content_type_and_required_metrics(self):
        with urllib.request.urlopen(f"http://{harness.HOST}:{self.b.http_port}/metrics",
                                    timeout=5) as r:
            self.assertEqual(r.status, 200)
            ctype = r.headers.get("Content-Type", "")
            text = r.read().decode()
        self.assertTrue(ctype.startswith("text/plain"), ctype)
        m = parse(text)
        for name in REQUIRED:
            self.assertIn(name, m, f"{name} missing from /metrics")
        for name in REQUIRED:
            self.assertRegex(text, rf"(?m)^# TYPE {name} (counter|gauge)$")
        self.assertRegex(text, r"(?m)^# TYPE sluice_messages_in_total counter$")
        self.assertRegex(text, r"(?m)^# TYPE sluice_connections gauge$")

    def test_counters_move_after_traffic(self):
        # The harness's start-up probe (a bare TCP connect to the MQTT port) counts as a
        # connection until the broker sees it close; under ASan that can be a while.
        before = self.wait_for(lambda m: m["sluice_connections"] == 0,
                               "connections from start-up did not close")
        sub = connected(self.b.mqtt_port, "m-sub")
        pub = connected(self.b.mqtt_port, "m-pub", version=4)
        m = self.wait_for(lambda m: m["sluice_connections"] >= before["sluice_connections"] + 2,
                          "sluice_connections did not count 2 new clients")
        sub.send(subscribe(1, [("metrics/a", 1), ("metrics/b/#", 0)]))
        sub.expect(SUBACK)
        self.wait_for(lambda m: m["sluice_subscriptions"] >= before["sluice_subscriptions"] + 2,
                      "sluice_subscriptions did not count 2 new subscriptions")
        n, payload = 10, b"p" * 1000
        for i in range(n):
            pub.send(publish("metrics/a", payload, qos=1, pid=i + 1, version=4))
            pub.expect(PUBACK)
        got = 0
        while got < n:
            p = sub.read()
            if p.type == PUBLISH:
                got += 1
                sub.send(ack(PUBACK, p.publish_fields()[3]))
        after = self.wait_for(
            lambda m: m["sluice_messages_out_total"] >= before["sluice_messages_out_total"] + n,
            f"sluice_messages_out_total did not grow by {n}")
        self.assertGreaterEqual(after["sluice_messages_in_total"],
                                before["sluice_messages_in_total"] + n)
        self.assertGreaterEqual(after["sluice_bytes_in_total"],
                                before["sluice_bytes_in_total"] + n * len(payload))
        self.assertGreaterEqual(after["sluice_bytes_out_total"],
                                before["sluice_bytes_out_total"] + n * len(payload))
        # Counters never go down.
        for name in ("sluice_messages_in_total", "sluice_messages_out_total",
                     "sluice_bytes_in_total", "sluice_bytes_out_total", "sluice_dropped_total"):
            self.assertGreaterEqual(after[name], before[name], name)
        # Clients leave: the gauges come back down.
        sub.send(disconnect())
        pub.send(disconnect(version=4))
        sub.close()
        pub.close()
        self.wait_for(lambda m: m["sluice_connections"] <= before["sluice_connections"],
                      "sluice_connections did not come back down after the clients left")
        self.wait_for(lambda m: m["sluice_subscriptions"] <= before["sluice_subscriptions"],
                      "sluice_subscriptions did not come back down after a clean session ended")

    def test_dropped_counts_unroutable_expired_message(self):
        # A queued message that expires before delivery is dropped and counted.
        before = self.metrics()
        from mqtt_raw import p_u32, props  # noqa: F401
        s = connected(self.b.mqtt_port, "m-exp", properties=p_u32(17, 300))
        s.send(subscribe(1, [("metrics/exp", 1)]))
        s.expect(SUBACK)
        s.send(disconnect())
        s.close()
        pub = connected(self.b.mqtt_port, "m-exp-pub")
        pub.send(publish("metrics/exp", b"x", qos=1, pid=1, properties=p_u32(2, 1)))
        pub.expect(PUBACK)
        time.sleep(1.6)
        s = connected(self.b.mqtt_port, "m-exp", clean=False, properties=p_u32(17, 0))
        try:
            p = s.read(0.5)
            self.assertNotEqual(p.type, PUBLISH, "expired message delivered")
        except TimeoutError:
            pass
        self.wait_for(lambda m: m["sluice_dropped_total"] >= before["sluice_dropped_total"] + 1,
                      "sluice_dropped_total did not count the expired message")
        for c in (s, pub):
            c.close()


if __name__ == "__main__":
    harness.main()
