#!/usr/bin/python3
"""QoS 2 as ApsaraMQ for MQTT has it (issue 21): the cloud supports QoS 2 but not a
persistent session's QoS 2 subscription ("QoS 2 persistent sessions are not
supported; use QoS 1 persistent sessions for offline messages", the cloud's limits
page). So on an instance, by default:
- a clean session subscribes with QoS 2 and gets QoS 2 (SUBACK 2, exactly once);
- a persistent session (v3.1.1 clean session off, v5 session expiry > 0) asking for
  QoS 2 is granted QoS 1 (MQTT lets a server grant less; the SUBACK says 1) and
  still gets its messages, offline ones too;
- Qos2PersistentSessions=true (a Sluice setting) grants them QoS 2 again, and
  Qos2=false keeps QoS 2 off everywhere (QoS 1 at most) as before.
Real clients: Paho (Debian's python3-paho-mqtt), v3.1.1 and v5."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from auth_harness import TenantTestCase  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402


def expiry(seconds):
    p = Properties(PacketTypes.CONNECT)
    p.SessionExpiryInterval = seconds
    return p


@harness.skip_on_mosquitto("ApsaraMQ's QoS 2 rule is sluice-specific")
class Qos2AndPersistentSessions(TenantTestCase):
    TENANTS = ("qos2",)

    def update(self, **settings):
        args = []
        for k, v in settings.items():
            args += ["--set", f"{k}={v}"]
        self.b.admin("instance", "update", "--account", self.t.alias, "--instance", self.t.instance, *args)
        time.sleep(0.8)  # re-read within 200 ms, applied on the connections' next tick

    def tearDown(self):
        super().tearDown()
        self.update(Qos2="true", Qos2PersistentSessions="false")

    def test_clean_sessions_get_qos2(self):
        for version in (4, 5):
            sub = self.root(f"clean{version}", version=version, clean=True)
            self.assertTrue(sub.connected.is_set())
            self.assertEqual(sub.subscribe("Sensors/q2", qos=2), [2], f"v{version}")
            pub = self.root(f"cleanpub{version}", version=version)
            self.assertTrue(pub.publish("Sensors/q2", b"once", qos=2))
            m = sub.get()
            self.assertEqual((m.payload, m.qos), (b"once", 2))
            self.assertIsNone(sub.none())  # exactly once

    def test_persistent_sessions_are_granted_qos1(self):
        v3 = self.root("persist3", version=4, clean=False)
        self.assertEqual(v3.subscribe("Sensors/p3", qos=2), [1])
        v5 = self.root("persist5", version=5, clean=True, properties=expiry(3600))
        self.assertEqual(v5.subscribe("Sensors/p5", qos=2), [1])
        pub = self.root("persistpub", version=5)
        self.assertTrue(pub.publish("Sensors/p3", b"a", qos=2))
        self.assertTrue(pub.publish("Sensors/p5", b"b", qos=2))
        self.assertEqual((v3.get().qos, v5.get().qos), (1, 1))
        # Offline messages still reach the persistent session, at QoS 1.
        v3.close()
        time.sleep(0.3)
        self.assertTrue(pub.publish("Sensors/p3", b"offline", qos=2))
        back = self.root("persist3", version=4, clean=False)
        self.assertTrue(back.session_present)
        m = back.get()
        self.assertEqual((m.payload, m.qos), (b"offline", 1))

    def test_the_switches(self):
        self.update(Qos2PersistentSessions="true")
        p = self.root("allowed", version=4, clean=False)
        self.assertEqual(p.subscribe("Sensors/s", qos=2), [2])
        self.update(Qos2="false")
        c = self.root("off", version=5, clean=True)
        self.assertEqual(c.subscribe("Sensors/s", qos=2), [1])  # QoS 2 nowhere


if __name__ == "__main__":
    unittest.main()
