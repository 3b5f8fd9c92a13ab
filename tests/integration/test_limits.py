#!/usr/bin/python3
"""Limits that protect the server (issue #7 §3): new connections per source address
(connect_rate_per_source / connect_burst_per_source) are refused at accept, before a byte
is read, while connections already open and other addresses carry on; the memory that
session queues may hold, per session and across the server, stays within its budget while
publishers keep being served."""
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
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


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_many(port, n, prefix):
    """n raw CONNECTs; returns (answered sockets, refused count)."""
    held, refused = [], 0
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(("127.0.0.1", port))
        try:
            s.sendall(connect(f"{prefix}-{i}", version=4))
            data = s.recv(64)
        except OSError:
            data = b""
        if len(data) >= 2 and data[0] >> 4 == CONNACK:
            held.append(s)
        else:
            refused += 1
            s.close()
    return held, refused


@harness.skip_on_mosquitto("sluice's descriptor limits")
class DescriptorLimitTest(unittest.TestCase):
    NOFILE = 128

    def check_shed(self, b, held, refused):
        self.assertGreater(refused, 0, "over the limit, new connections are refused")
        # Open connections are not harmed: each answers a PINGREQ.
        for s in held[:5] + held[-5:]:
            s.sendall(packet(0xC0, b""))
            self.assertEqual(s.recv(16)[0] >> 4, PINGRESP)
        # No spinning on a listener it cannot accept from: idle CPU stays idle.
        t0 = cpu_seconds(b.pid)
        time.sleep(1.0)
        self.assertLess(cpu_seconds(b.pid) - t0, 0.3, "the broker spins while out of descriptors")
        # Room again: a new connection is accepted.
        held.pop().close()
        held.pop().close()
        time.sleep(0.3)
        again, _ = open_many(b.mqtt_port, 1, "again")
        self.assertEqual(len(again), 1, "a connection is accepted once there is room")
        for s in held + again:
            s.close()
        self.assertTrue(b.alive())

    def test_connections_are_bounded_by_the_descriptor_limit(self):
        # max_connections 0 (the default): the limit less a reserve (32 of 128 here) and
        # less HTTP's own budget (an eighth of the 96 left: 12), so that HTTP connections
        # never take the descriptors MQTT was sized for.
        b = harness.Broker(nofile=self.NOFILE).start()
        try:
            held, refused = open_many(b.mqtt_port, self.NOFILE, "auto")
            self.assertEqual(len(held), self.NOFILE - 32 - 12)
            self.check_shed(b, held, refused)
        finally:
            b.stop()

    def test_out_of_descriptors_sheds_new_connections_without_spinning(self):
        # max_connections set above what the descriptors allow: accept() hits EMFILE.
        conf = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        conf.write("[mqtt]\nmax_connections = 100000\n")
        conf.close()
        b = harness.Broker(nofile=self.NOFILE, extra_args=["--config", conf.name]).start()
        try:
            t0 = time.monotonic()
            held, refused = open_many(b.mqtt_port, self.NOFILE + 20, "emfile")
            # Shed at once, not after a wait (a paused listener, a lost reserve).
            self.assertLess(time.monotonic() - t0, 5.0, "refused connections were left waiting")
            self.assertGreater(len(held), self.NOFILE // 2)
            self.check_shed(b, held, refused)
            log = b.log_tail()
            self.assertIn("new connections shed", log)
            self.assertLess(log.count("new connections shed"), 3, "the warning is rate-limited")
        finally:
            b.stop()
            os.unlink(conf.name)


def persistent_subscriber(port, cid, topic):
    """Subscribes with a persistent session, then goes away (the queue fills while offline)."""
    c = mqtt.Client(cid, clean_session=False, protocol=mqtt.MQTTv311)
    c.connect("127.0.0.1", port)
    c.loop_start()
    done = c.subscribe(topic, qos=1)
    deadline = time.monotonic() + 5
    while not c.is_connected() or done[0] != mqtt.MQTT_ERR_SUCCESS:
        if time.monotonic() > deadline:
            raise AssertionError("subscribe failed")
        time.sleep(0.01)
    time.sleep(0.2)
    c.disconnect()
    c.loop_stop()


def drain(port, cid, quiet=1.0):
    got = []
    c = mqtt.Client(cid, clean_session=False, protocol=mqtt.MQTTv311)
    c.on_message = lambda c, u, m: got.append(m.payload)
    c.connect("127.0.0.1", port)
    c.loop_start()
    last, n = time.monotonic(), 0
    while time.monotonic() - last < quiet:
        time.sleep(0.1)
        if len(got) != n:
            n, last = len(got), time.monotonic()
    c.disconnect()
    c.loop_stop()
    return got


def refused_at_start(test, **env):
    """Starts sluice with these environment settings; it must exit non-zero. Returns its output."""
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([harness.sluice_bin(), "serve", "--allow-anonymous", "--data-dir", d,
                            "--mqtt-port", "0", "--http-port=-1"],
                           env=dict(os.environ, **env), capture_output=True, text=True, timeout=20)
    test.assertNotEqual(r.returncode, 0)
    return r.stdout + r.stderr


@harness.skip_on_mosquitto("sluice's read coalescing")
class CoalesceSettingTest(unittest.TestCase):
    def test_a_sleep_too_long_to_be_batching_is_refused_with_a_clear_error(self):
        self.assertIn("coalesce_us must be between 0 and 1000", refused_at_start(self, SLUICE_MQTT_COALESCE_US="5000"))


@harness.skip_on_mosquitto("sluice's queue memory budgets")
class QueueMemoryTest(unittest.TestCase):
    KB = 1024

    def test_a_bad_server_budget_is_refused_with_a_clear_error(self):
        self.assertIn("max_queued_bytes_total must be -1",
                      refused_at_start(self, SLUICE_BROKER_MAX_QUEUED_BYTES_TOTAL="-5"))

    def test_queues_stay_within_their_memory_budgets(self):
        conf = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        # 300 KiB for all queues together, 100 KiB for one session's.
        conf.write("[broker]\nmax_queued_bytes = 102400\nmax_queued_bytes_total = 307200\n")
        conf.close()
        b = harness.Broker(extra_args=["--config", conf.name]).start()
        try:
            self.assertEqual(b.metric("sluice_queued_bytes_limit"), 307200)
            for i in range(5):
                persistent_subscriber(b.mqtt_port, f"mem-sub-{i}", f"mem/{i}")
            pub = mqtt.Client("mem-pub", protocol=mqtt.MQTTv311)
            pub.max_inflight_messages_set(50)
            pub.connect("127.0.0.1", b.mqtt_port)
            pub.loop_start()
            infos = []
            for seq in range(400):  # 80 x 1 KiB to each of 5 offline sessions = 400 KiB offered
                payload = f"{seq:06d}".encode() + b"x" * (self.KB - 6)
                infos.append(pub.publish(f"mem/{seq % 5}", payload, qos=1))
            for info in infos:
                info.wait_for_publish(timeout=10)
            self.assertTrue(all(i.is_published() for i in infos), "every publish acknowledged")
            queued = b.metric("sluice_queued_bytes")
            self.assertLessEqual(queued, 307200, "all queues within the server's budget")
            self.assertGreater(queued, 200 * self.KB, "the budget is used, not refused early")
            self.assertGreater(b.metric("sluice_queue_refused_total"), 0)
            # The broker still serves: a new client publishes and receives.
            echo = []
            c = mqtt.Client("mem-echo", protocol=mqtt.MQTTv311)
            c.on_message = lambda c, u, m: echo.append(m.payload)
            c.connect("127.0.0.1", b.mqtt_port)
            c.loop_start()
            c.subscribe("echo", qos=1)
            time.sleep(0.2)
            c.publish("echo", b"still here", qos=1).wait_for_publish(timeout=5)
            deadline = time.monotonic() + 5
            while not echo and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(echo, [b"still here"])
            c.loop_stop()
            # Each session got what fitted, in order; draining gives the memory back.
            total = 0
            for i in range(5):
                got = drain(b.mqtt_port, f"mem-sub-{i}")
                seqs = [int(p[:6]) for p in got]
                self.assertEqual(seqs, sorted(seqs), "in publish order")
                self.assertLessEqual(len(got) * self.KB, 102400, "within one session's budget")
                total += len(got)
            self.assertGreater(total, 200)
            self.assertEqual(b.metric("sluice_queued_bytes"), 0)
            pub.loop_stop()
            self.assertTrue(b.alive())
        finally:
            b.stop()
            os.unlink(conf.name)


if __name__ == "__main__":
    harness.main()
