#!/usr/bin/python3
"""Crash loop (issue #7): QoS 1 publishers to persistent sessions' topics, kill -9 of the
broker at random moments, restart on the same data dir; every message whose PUBACK the
publisher received must reach its subscriber (before or after a crash; duplicates are
allowed, as QoS 1 permits), and retained messages and subscriptions survive.

SLUICE_DURABILITY_ROUNDS (default 6) sets the number of crashes; SLUICE_DURABILITY_FSYNC
the fsync mode (default: the server's default, batch). Prints a RESULT line with the
counts (docs/reliability.md quotes them)."""
import os
import random
import sys
import threading
import time
import unittest

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ROUNDS = int(os.environ.get("SLUICE_DURABILITY_ROUNDS", "6"))
FSYNC = os.environ.get("SLUICE_DURABILITY_FSYNC", "")
SUBS = 3          # persistent sessions, one topic each
PUBS = 2          # publishers, each writing to every topic
MAX_OUTSTANDING = 200


def expiry_props():
    p = Properties(PacketTypes.CONNECT)
    p.SessionExpiryInterval = 3600
    return p


class Subscriber:
    """A persistent session (v5, clean start off, expiry 1 h) that records what it gets."""

    def __init__(self, port, i, received, first):
        self.c = mqtt.Client(f"dur-sub-{i}", protocol=mqtt.MQTTv5)
        self.c.on_message = lambda c, u, m: received.add(m.payload)  # acked after return
        self.ready = threading.Event()
        self.present = None

        def on_connect(c, u, flags, rc, props=None):
            self.present = flags.get("session present")
            if first:
                c.subscribe(f"dur/{i}", qos=1)  # once: afterwards the session holds it
            self.ready.set()

        self.c.on_connect = on_connect
        # Paho's loop thread would reconnect by itself after the crash, and with clean
        # start for a first-round client: that would discard the very session under test.
        self.c.on_disconnect = lambda c, *a: c.loop_stop()
        self.c.connect("127.0.0.1", port, clean_start=first, properties=expiry_props())
        self.c.loop_start()

    def stop(self):
        self.c.loop_stop()
        try:
            self.c.socket() and self.c.socket().close()
        except Exception:
            pass


class Publisher:
    """QoS 1 publishes with unique payloads; a payload counts as acknowledged on its PUBACK."""

    def __init__(self, port, j, rnd, acked):
        self.c = mqtt.Client(f"dur-pub-{j}", protocol=mqtt.MQTTv311)
        self.c.max_inflight_messages_set(100)
        self.c.max_queued_messages_set(0)
        self.lock = threading.Lock()
        self.pending = {}  # mid -> payload
        self.early = set()
        self.acked = acked
        self.j, self.rnd, self.seq = j, rnd, 0
        self.stopped = threading.Event()
        self.c.on_publish = self.on_publish
        self.c.on_disconnect = lambda c, *a: c.loop_stop()  # no automatic reconnect
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def on_publish(self, c, u, mid):
        # Runs under Paho's own lock: never wait here for one held around publish().
        with self.lock:
            p = self.pending.pop(mid, None)
            if p is None:
                self.early.add(mid)  # acked before run() recorded the mid
        if p is not None:
            self.acked.add(p)

    def run(self):
        while not self.stopped.is_set():
            with self.lock:
                busy = len(self.pending) >= MAX_OUTSTANDING
            if busy or not self.c.is_connected():
                time.sleep(0.002)
                continue
            topic = f"dur/{self.seq % SUBS}"
            payload = f"{topic}|{self.rnd}|{self.j}|{self.seq}".encode()
            self.seq += 1
            info = self.c.publish(topic, payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                continue
            with self.lock:
                if info.mid in self.early:
                    self.early.discard(info.mid)
                    self.acked.add(payload)
                else:
                    self.pending[info.mid] = payload

    def stop(self):
        self.stopped.set()
        self.t.join()
        self.c.loop_stop()


@harness.skip_on_mosquitto("kill -9 of the broker and its data dir")
class CrashLoopTest(unittest.TestCase):
    def test_acknowledged_messages_survive_kill_9_in_a_loop(self):
        extra = ["--fsync", FSYNC] if FSYNC else []
        b = harness.Broker(extra_args=extra).start()
        acked, received = set(), set()
        retained_acked = None
        try:
            rng = random.Random(int(os.environ.get("SLUICE_DURABILITY_SEED", time.time())))
            subs = [Subscriber(b.mqtt_port, i, received, first=True) for i in range(SUBS)]
            for s in subs:
                self.assertTrue(s.ready.wait(5), "subscriber connected")
            time.sleep(0.3)  # SUBACKs
            for rnd in range(ROUNDS):
                pubs = [Publisher(b.mqtt_port, j, rnd, acked) for j in range(PUBS)]
                # A retained message per round: the last acknowledged one must survive.
                r = mqtt.Client(f"dur-ret-{rnd}", protocol=mqtt.MQTTv311)
                r.connect("127.0.0.1", b.mqtt_port)
                r.loop_start()
                info = r.publish("dur/retained", f"round {rnd}".encode(), qos=1, retain=True)
                info.wait_for_publish(5)
                if info.is_published():
                    retained_acked = f"round {rnd}".encode()
                r.disconnect()
                r.loop_stop()
                time.sleep(rng.uniform(0.3, 1.5))  # load, then a crash at a random moment
                b.crash_and_restart()
                for p in pubs:
                    p.stop()
                for s in subs:
                    s.stop()
                subs = [Subscriber(b.mqtt_port, i, received, first=False) for i in range(SUBS)]
                for s in subs:
                    self.assertTrue(s.ready.wait(5), "subscriber reconnected")
                    self.assertTrue(s.present, f"session present after crash {rnd + 1}")
            # Drain: everything acknowledged arrives, or nothing new for 3 s.
            deadline, last, last_n = time.monotonic() + 60, time.monotonic(), -1
            while time.monotonic() < deadline and not acked <= received:
                if len(received) != last_n:
                    last, last_n = time.monotonic(), len(received)
                elif time.monotonic() - last > 3:
                    break
                time.sleep(0.05)
            for s in subs:
                s.stop()
            missing = acked - received
            print(f"RESULT crashes={ROUNDS} acked={len(acked)} received={len(received)} "
                  f"missing={len(missing)} fsync={FSYNC or 'default'}", flush=True)
            self.assertGreater(len(acked), 0, "publishers got acknowledgements")
            self.assertEqual(sorted(missing)[:10], [], f"{len(missing)} acknowledged messages lost")

            got = []
            late = mqtt.Client("dur-late", protocol=mqtt.MQTTv311)
            late.on_message = lambda c, u, m: got.append(m.payload)
            late.on_connect = lambda c, u, f, rc: c.subscribe("dur/retained", qos=1)
            late.connect("127.0.0.1", b.mqtt_port)
            late.loop_start()
            for _ in range(100):
                if got:
                    break
                time.sleep(0.05)
            late.loop_stop()
            self.assertIsNotNone(retained_acked)
            # The last acknowledged retained value, or a later one whose ack the crash ate.
            self.assertTrue(got, "retained message survives kill -9")
            self.assertGreaterEqual(int(got[0].split()[1]), int(retained_acked.split()[1]))
        finally:
            b.stop()



def _client(cid, v5=False, **kw):
    c = mqtt.Client(cid, protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311, **kw)
    c.max_queued_messages_set(0)
    return c


def _wait(pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@harness.skip_on_mosquitto("kill -9 of the broker and its data dir")
class WillAcrossCrashTest(unittest.TestCase):
    def test_wills_of_open_connections_go_out_after_kill_9(self):
        b = harness.Broker().start()
        open_clients = []
        try:
            # A persistent watcher subscribes, then goes offline: wills queue for it.
            w = _client("will-watch", clean_session=False)
            w.connect("127.0.0.1", b.mqtt_port)
            w.loop_start()
            self.assertTrue(_wait(w.is_connected))
            self.assertEqual(w.subscribe("will/#", qos=1)[0], mqtt.MQTT_ERR_SUCCESS)
            time.sleep(0.3)
            w.disconnect()
            w.loop_stop()
            # Open at the crash: a clean v3.1.1 session, and a v5 session that
            # persists for 60 s with a will delay of 1 s.
            a = _client("will-a")
            a.will_set("will/a", b"a gone", qos=1)
            a.connect("127.0.0.1", b.mqtt_port)
            wp = Properties(PacketTypes.WILLMESSAGE)
            wp.WillDelayInterval = 1
            cp = Properties(PacketTypes.CONNECT)
            cp.SessionExpiryInterval = 60
            bb = _client("will-b", v5=True)
            bb.will_set("will/b", b"b gone", qos=1, properties=wp)
            bb.connect("127.0.0.1", b.mqtt_port, clean_start=False, properties=cp)
            # Closed normally before the crash: its will must not appear.
            c = _client("will-c")
            c.will_set("will/c", b"c gone", qos=1)
            c.connect("127.0.0.1", b.mqtt_port)
            for x in (a, bb, c):
                x.loop_start()
                self.assertTrue(_wait(x.is_connected))
            c.disconnect()
            time.sleep(0.5)  # the arm records reach the store
            for x in (a, bb, c):
                x.loop_stop()  # no reconnect after the crash: a and b stay "dropped"
            open_clients = [a, bb]
            b.crash_and_restart()
            got = []
            w2 = _client("will-watch", clean_session=False)
            w2.on_message = lambda cl, u, m: got.append((m.topic, m.payload))
            w2.connect("127.0.0.1", b.mqtt_port)
            w2.loop_start()
            self.assertTrue(_wait(lambda: len(got) >= 2, timeout=8), f"wills after the restart: {got}")
            time.sleep(0.5)
            w2.disconnect()
            w2.loop_stop()
            self.assertEqual(sorted(got), [("will/a", b"a gone"), ("will/b", b"b gone")])
        finally:
            for x in open_clients:
                try:
                    x.socket() and x.socket().close()
                except Exception:
                    pass
            b.stop()

if __name__ == "__main__":
    harness.main()
