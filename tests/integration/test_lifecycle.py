#!/usr/bin/python3
"""Process lifecycle and durability (sluice only): the "ready" line, a clean exit on
SIGTERM, and acknowledged QoS 1 messages, retained messages and persistent sessions
surviving kill -9 and a restart (SPEC §8 Durability, §9 graceful shutdown)."""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from mqtt_raw import (  # noqa: E402
    PUBACK, PUBLISH, SUBACK, ack, connected, disconnect, p_u32, publish, subscribe)


@harness.skip_on_mosquitto("sluice's process contract and durability")
class LifecycleTest(unittest.TestCase):
    def test_ready_line_and_clean_sigterm(self):
        b = harness.Broker().start()
        try:
            deadline = time.monotonic() + 5
            while "ready" not in b.log_tail(100000) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertIn("ready", b.log_tail(100000), "a line containing 'ready' is printed")
            c = connected(b.mqtt_port, "lc-client")  # a client still connected
            t0 = time.monotonic()
            b.proc.send_signal(signal.SIGTERM)
            rc = b.proc.wait(10)
            self.assertEqual(rc, 0, f"exit code on SIGTERM; log:\n{b.log_tail()}")
            self.assertLess(time.monotonic() - t0, 5, "SIGTERM shutdown is prompt")
            c.close()
        finally:
            b.stop()

    def test_acknowledged_data_survives_kill_9(self):
        b = harness.Broker().start()
        try:
            # A persistent session with a subscription, offline.
            s = connected(b.mqtt_port, "durable-sub", clean=True, properties=p_u32(17, 3600))
            s.send(subscribe(1, [("durable/q", 1)]))
            s.expect(SUBACK)
            s.send(disconnect())
            s.close()
            pub = connected(b.mqtt_port, "durable-pub")
            pub.send(publish("durable/retained", b"kept", qos=1, pid=1, retain=True))
            pub.expect(PUBACK)
            for i in range(3):
                pub.send(publish("durable/q", b"queued %d" % i, qos=1, pid=10 + i))
                pa = pub.expect(PUBACK)
                self.assertEqual(pa.reason, 0)
            pub.close()
            b.crash_and_restart()
            with self.subTest("retained message"):
                late = connected(b.mqtt_port, "durable-late")
                late.send(subscribe(1, [("durable/retained", 1)]))
                late.expect(SUBACK)
                late.send(publish("durable/retained", b"marker", qos=0))
                p = late.expect(PUBLISH)
                late.close()
                self.assertEqual(p.publish_fields()[1], b"kept", "retained survives kill -9")
            with self.subTest("persistent session and its queue"):
                s = connected(b.mqtt_port, "durable-sub", clean=False,
                              properties=p_u32(17, 3600))
                self.assertEqual(s.connack.body[0] & 1, 1, "session present after kill -9")
                got = []
                try:
                    while len(got) < 3:
                        p = s.read(3)
                        if p.type == PUBLISH:
                            _, payload, qos, pid, _ = p.publish_fields()
                            got.append(payload)
                            s.send(ack(PUBACK, pid))
                except TimeoutError:
                    pass
                s.close()
                self.assertEqual(got, [b"queued 0", b"queued 1", b"queued 2"],
                                 "acknowledged QoS 1 messages survive kill -9")
        finally:
            b.stop()


if __name__ == "__main__":
    harness.main()
