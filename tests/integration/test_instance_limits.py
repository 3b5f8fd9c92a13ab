#!/usr/bin/python3
"""Per-instance limits and switches (SPEC §1): a client over a limit gets the MQTT
reason code that says so (v5) or a disconnect (v3), nothing else is affected, and
an instance update (`sluice admin instance update --set`, the same path as the
API's UpdateInstance) reaches clients that are already connected."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import mqtt_raw as raw  # noqa: E402
from auth_harness import TenantTestCase, sign  # noqa: E402

TOPIC_NAME_INVALID, TOPIC_FILTER_INVALID, QUOTA_EXCEEDED = 0x90, 0x8F, 0x97
MESSAGE_RATE_TOO_HIGH, PACKET_TOO_LARGE, IMPLEMENTATION_SPECIFIC = 0x96, 0x95, 0x83

DEFAULTS = {"MaxTopicLength": "64", "MaxMessagesPerSecond": "0", "WillAvailable": "true",
            "MaxSubscriptionsPerClient": "30", "MaxPayload": "65536", "MaxOfflineMessages": "1000000"}


@harness.skip_on_mosquitto("ApsaraMQ instance limits are sluice-specific")
class InstanceLimits(TenantTestCase):
    TENANTS = ("limits",)

    def setUp(self):
        super().setUp()
        self.conns = []

    def tearDown(self):
        for c in self.conns:
            c.close()
        self.update(**DEFAULTS)
        super().tearDown()

    def update(self, **settings):
        args = []
        for k, v in settings.items():
            args += ["--set", f"{k}={v}"]
        self.b.admin("instance", "update", "--account", self.t.alias, "--instance", self.t.instance, *args)
        time.sleep(0.8)  # the server re-reads the store within 200 ms; connections apply it on their next tick

    def connect(self, device, version=5, clean=True, properties=b"", will=None, expect=0):
        cid = self.t.cid(device)
        c = raw.RawConn(self.b.port("tcp"))
        self.conns.append(c)
        c.send(raw.connect(cid, version=version, clean=clean, properties=properties, will=will,
                           username=self.t.sig_user(self.t.key_id), password=sign(self.t.secret, cid)))
        ack = c.read()
        self.assertEqual(ack.type, raw.CONNACK)
        self.assertEqual(ack.reason, expect, f"CONNACK of {cid}")
        c.version = version
        return c

    def puback(self, c, topic, pid, payload=b"x", qos=1):
        c.send(raw.publish(topic, payload, qos=qos, pid=pid, version=c.version))
        return c.expect(raw.PUBACK if qos == 1 else raw.PUBREC).reason

    def suback(self, c, flt, pid):
        c.send(raw.subscribe(pid, [(flt, 1)], version=c.version))
        p = c.expect(raw.SUBACK)
        return p.body[-1]

    def test_topic_longer_than_the_limit_gets_topic_invalid_codes(self):
        self.update(MaxTopicLength="24")
        c = self.connect("len5")
        long_topic = "Sensors/" + "x" * 30
        self.assertEqual(self.puback(c, long_topic, 1), TOPIC_NAME_INVALID)
        self.assertEqual(self.suback(c, long_topic, 2), TOPIC_FILTER_INVALID)
        self.assertEqual(self.puback(c, "Sensors/short", 3), 0)  # the connection is unaffected
        self.assertEqual(self.suback(c, "Sensors/ok", 4), 1)
        v3 = self.connect("len3", version=4)
        v3.send(raw.publish(long_topic, b"x", qos=1, pid=1, version=4))
        v3.read_until_close()  # v3 cannot be told: disconnected

    def test_publish_rate_limit_says_quota_exceeded_then_rate_too_high(self):
        self.update(MaxMessagesPerSecond="5")
        c = self.connect("rate")
        time.sleep(1.05 - time.time() % 1)  # start of a wall-clock second
        codes = [self.puback(c, "Sensors/rate", i + 1) for i in range(12)]
        self.assertIn(QUOTA_EXCEEDED, codes, codes)
        self.assertEqual(codes[:5], [0] * 5, codes)
        other = self.connect("rate-other")  # per client: another one is not affected
        self.assertEqual(self.puback(other, "Sensors/rate", 1), 0)
        for _ in range(20):  # QoS 0 over the rate: DISCONNECT 0x96
            if not c.try_send(raw.publish("Sensors/rate", b"x", qos=0)):
                break
        pkts = c.read_until_close()
        self.assertEqual([(p.type, p.reason) for p in pkts if p.type == raw.DISCONNECT],
                         [(raw.DISCONNECT, MESSAGE_RATE_TOO_HIGH)])

    def test_will_switch_off_refuses_a_connect_with_a_will(self):
        self.update(WillAvailable="false")
        self.connect("will", will={"topic": "Sensors/will", "payload": b"bye"}, expect=IMPLEMENTATION_SPECIFIC)
        self.connect("nowill")  # without a will: fine
        self.update(WillAvailable="true")
        self.connect("will2", will={"topic": "Sensors/will", "payload": b"bye"})

    def test_an_update_reaches_connected_clients(self):
        c = self.connect("live")
        self.assertEqual(self.suback(c, "Sensors/a", 1), 1)
        self.update(MaxSubscriptionsPerClient="1")
        self.assertEqual(self.suback(c, "Sensors/b", 2), QUOTA_EXCEEDED)  # same connection, new limit
        self.update(MaxPayload="100")
        c.try_send(raw.publish("Sensors/a", b"y" * 2000, qos=1, pid=3))
        pkts = c.read_until_close()
        self.assertEqual([p.reason for p in pkts if p.type == raw.DISCONNECT], [PACKET_TOO_LARGE])

    def test_offline_messages_are_capped_per_instance(self):
        self.update(MaxOfflineMessages="6")
        expiry = raw.p_u32(raw.SESSION_EXPIRY, 3600)
        subs = []
        for d in ("off1", "off2"):
            s = self.connect(d, clean=True, properties=expiry)
            self.assertEqual(self.suback(s, "Sensors/off", 1), 1)
            s.send(raw.disconnect())
            s.close()
            subs.append(d)
        pub = self.connect("offpub")
        for i in range(10):
            self.assertEqual(self.puback(pub, "Sensors/off", i + 1, payload=str(i).encode()), 0)
        got = {}
        for d in subs:
            s = self.connect(d, clean=False, properties=expiry)
            n = 0
            try:
                while True:
                    p = s.read(timeout=1.0)
                    if p.type == raw.PUBLISH:
                        n += 1
                        topic, payload, qos, pid, _ = p.publish_fields()
                        s.send(raw.ack(raw.PUBACK, pid))
            except TimeoutError:
                pass
            got[d] = n
        # Both sessions together hold at most 6: the instance's cap, not 10 each.
        self.assertEqual(sum(got.values()), 6, got)


if __name__ == "__main__":
    unittest.main(verbosity=2)
