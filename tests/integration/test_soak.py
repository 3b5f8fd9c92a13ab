#!/usr/bin/python3
"""Soak (issue #7): mixed load for SLUICE_SOAK_SECONDS (default 60; the bench runs 600):
QoS 1 publishers to persistent sessions whose subscribers are dropped and come back at
random moments, a reconnect storm of short-lived clients, and a consumer that never reads.
Every message a publisher got a PUBACK for must reach its persistent session (duplicates
allowed, as QoS 1 permits), the broker's resident memory must stay bounded, and it must be
alive at the end. Prints a RESULT line with the counts."""
import os
import random
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import mqtt_raw as raw  # noqa: E402
import test_durability as dur  # noqa: E402  (its persistent Subscriber and QoS 1 Publisher)

SECONDS = float(os.environ.get("SLUICE_SOAK_SECONDS", "60"))
RATE = float(os.environ.get("SLUICE_SOAK_RATE", "800"))  # publishes per second per publisher
RSS_BOUND_MIB = 200 + harness.MEMORY_SLACK_MIB


class PacedPublisher(dur.Publisher):
    """The durability test's publisher at a steady rate: the subscribers (Python) must keep
    up, or their bounded session queues (max_queued_messages) would drop the oldest by design."""

    def run(self):
        period, next_at = 1.0 / RATE, time.monotonic()
        while not self.stopped.is_set():
            with self.lock:
                busy = len(self.pending) >= dur.MAX_OUTSTANDING
            if busy or not self.c.is_connected():
                time.sleep(0.002)
                continue
            now = time.monotonic()
            if now < next_at:
                time.sleep(next_at - now)
            next_at = max(next_at + period, time.monotonic() - 0.1)
            topic = f"dur/{self.seq % dur.SUBS}"
            payload = f"{topic}|{self.rnd}|{self.j}|{self.seq}".encode()
            self.seq += 1
            info = self.c.publish(topic, payload, qos=1)
            if info.rc != 0:
                continue
            with self.lock:
                if info.mid in self.early:
                    self.early.discard(info.mid)
                    self.acked.add(payload)
                else:
                    self.pending[info.mid] = payload


def dropped_total(b):
    for line in b.metrics_text().splitlines():
        if line.startswith("sluice_dropped_total"):
            return int(float(line.split()[-1]))
    return -1


@harness.skip_on_mosquitto("sluice's soak")
class Soak(unittest.TestCase):
    def test_mixed_load_reconnects_and_a_slow_consumer(self):
        b = harness.Broker().start()
        rng = random.Random(int(os.environ.get("SLUICE_SOAK_SEED", time.time())))
        acked, received = set(), set()
        stop = threading.Event()
        storm_cycles = [0]
        try:
            port = b.mqtt_port
            subs = [dur.Subscriber(port, i, received, first=True) for i in range(dur.SUBS)]
            for s in subs:
                self.assertTrue(s.ready.wait(5))
            time.sleep(0.3)  # SUBACKs
            pubs = [PacedPublisher(port, j, 0, acked) for j in range(dur.PUBS)]
            # A consumer that subscribes to everything and never reads.
            slow = raw.RawConn(port, rcvbuf=4096)
            slow.send(raw.connect("soak-slow", version=4))
            slow.read()
            slow.send(raw.subscribe(1, [("dur/#", 1)], version=4))

            def storm():  # connect, CONNACK, disconnect, as fast as it goes
                n = 0
                while not stop.is_set():
                    try:
                        c = raw.RawConn(port, timeout=5)
                        c.send(raw.connect(f"soak-storm-{n % 500}", version=4))
                        c.read()
                        c.send(raw.disconnect(version=4))
                        c.close()
                        storm_cycles[0] += 1
                    except (OSError, raw.Closed, TimeoutError):
                        time.sleep(0.01)
                    n += 1

            storm_thread = threading.Thread(target=storm, daemon=True)
            storm_thread.start()
            base = b.rss_kb() / 1024
            peak, drops = base, 0
            end = time.monotonic() + SECONDS
            while time.monotonic() < end:
                # Drop a random persistent subscriber, then bring it back a moment later.
                i = rng.randrange(len(subs))
                subs[i].stop()
                drops += 1
                time.sleep(rng.uniform(0.1, 0.8))
                peak = max(peak, b.rss_kb() / 1024)
                subs[i] = dur.Subscriber(port, i, received, first=False)
                self.assertTrue(subs[i].ready.wait(5), "subscriber reconnected")
                self.assertTrue(subs[i].present, "its session was kept")
                time.sleep(rng.uniform(0.2, 1.0))
                peak = max(peak, b.rss_kb() / 1024)
            stop.set()
            storm_thread.join(10)
            for p in pubs:
                p.stop()
            deadline, last, last_n = time.monotonic() + 60, time.monotonic(), -1
            while time.monotonic() < deadline and not acked <= received:
                if len(received) != last_n:
                    last, last_n = time.monotonic(), len(received)
                elif time.monotonic() - last > 5:
                    break
                time.sleep(0.05)
            for s in subs:
                s.stop()
            slow.close()
            missing = acked - received
            print(f"RESULT seconds={SECONDS:.0f} acked={len(acked)} received={len(received)} "
                  f"missing={len(missing)} subscriber_drops={drops} storm_cycles={storm_cycles[0]} "
                  f"rss_base_mib={base:.0f} rss_peak_mib={peak:.0f} broker_dropped={dropped_total(b)} "
                  f"(the slow consumer's)", flush=True)
            self.assertGreater(len(acked), 1000, "publishers kept going")
            self.assertGreater(storm_cycles[0], 100, "the reconnect storm ran")
            self.assertEqual(sorted(missing)[:10], [], f"{len(missing)} acknowledged messages lost")
            self.assertLess(peak - base, RSS_BOUND_MIB, "resident memory stays bounded")
            self.assertTrue(b.alive(), "broker alive after the soak")
        finally:
            stop.set()
            b.stop()


if __name__ == "__main__":
    harness.main()
