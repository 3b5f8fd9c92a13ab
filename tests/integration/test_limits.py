#!/usr/bin/python3
"""Limits that protect the server (issue #7 §3): new connections per source address
(connect_rate_per_source / connect_burst_per_source) are refused at accept, before a byte
is read, while connections already open and other addresses carry on."""
import os
import socket
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from mqtt_raw import CONNACK, PINGRESP, connect, packet  # noqa: E402


def try_connect(port, source):
    """CONNECT from `source`; the CONNACK's socket, or None if the server closed it first."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(connect(f"lim-{source}-{time.monotonic_ns()}", version=4))
        data = s.recv(64)
    except OSError:  # reset
        data = b""
    if len(data) >= 2 and data[0] >> 4 == CONNACK:
        return s
    s.close()
    return None


@harness.skip_on_mosquitto("sluice's connect-rate limit")
class ConnectRateTest(unittest.TestCase):
    def test_connect_storm_from_one_address_is_shed_others_unaffected(self):
        conf = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        conf.write("[mqtt]\nconnect_rate_per_source = 2\nconnect_burst_per_source = 5\n")
        conf.close()
        b = harness.Broker(extra_args=["--config", conf.name]).start()
        try:
            held = [try_connect(b.mqtt_port, "127.0.0.3") for _ in range(5)]
            self.assertTrue(all(held), "the burst is admitted")
            self.assertIsNone(try_connect(b.mqtt_port, "127.0.0.3"), "over the burst: refused")
            other = try_connect(b.mqtt_port, "127.0.0.4")
            self.assertIsNotNone(other, "another address has its own budget")
            # Connections already open are not harmed: a PINGREQ is answered.
            held[0].sendall(packet(0xC0, b""))
            data = held[0].recv(16)
            self.assertEqual(data[0] >> 4, PINGRESP)
            time.sleep(0.6)  # 2 per second: one token back
            again = try_connect(b.mqtt_port, "127.0.0.3")
            self.assertIsNotNone(again, "the budget refills")
            for s in held + [other, again]:
                s.close()
            self.assertTrue(b.alive())
        finally:
            b.stop()
            os.unlink(conf.name)


if __name__ == "__main__":
    harness.main()
