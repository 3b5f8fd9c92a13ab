#!/usr/bin/python3
"""The loop's two ways of writing to sockets give the same result: a fan-out to many
subscribers, some of whose sockets fill up (partial writes, EAGAIN) and one that goes away in
the middle (EPIPE / reset), delivers every message to every remaining subscriber, in order,
with `[mqtt] io_uring = true` (several connections' output in one io_uring submission,
net/send_batch.hpp) and with `io_uring = false` (a send() each: also the path of a kernel
that refuses io_uring)."""
import os
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import mqtt_raw as m  # noqa: E402

SUBSCRIBERS = 8      # the batched path starts at four connections with output in one iteration
SLOW = 2             # of them read nothing until the publisher is done
MESSAGES = 300
PAYLOAD = 4096       # 300 x 4 KiB = 1.2 MiB each: more than a small socket buffer holds


def receive_all(conn, count, out, timeout=30):
    """Reads `count` QoS 1 PUBLISHes, acknowledging each; appends their sequence numbers."""
    try:
        while len(out) < count:
            p = conn.expect(m.PUBLISH, timeout)
            topic, payload, qos, pid, _ = p.publish_fields(conn.version)
            if qos:
                conn.send(m.ack(m.PUBACK, pid, version=conn.version))
            out.append(int(payload[:6]))
    except Exception as e:  # recorded, asserted by the test
        out.append(repr(e))


@harness.skip_on_mosquitto("sluice's [mqtt] io_uring setting")
class SendPathsTest(unittest.TestCase):
    def fan_out(self, io_uring):
        conf = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        conf.write(f"[mqtt]\nio_uring = {'true' if io_uring else 'false'}\n")
        conf.close()
        self.addCleanup(os.unlink, conf.name)
        b = harness.Broker(threads=1, extra_args=["--config", conf.name]).start()
        self.addCleanup(b.stop)

        subs = []
        for i in range(SUBSCRIBERS + 1):  # the last one leaves in the middle
            c = m.RawConn(b.mqtt_port, rcvbuf=4096 if i < SLOW else None, timeout=30)
            c.send(m.connect(f"fan-{i}", version=5))
            self.assertEqual(c.read().reason, 0)
            c.version = 5
            c.send(m.subscribe(1, [("fan/t", 1)]))
            c.expect(m.SUBACK)
            self.addCleanup(c.close)
            subs.append(c)
        leaver = subs.pop()

        got = [[] for _ in subs]
        readers = [threading.Thread(target=receive_all, args=(c, MESSAGES, got[i]), daemon=True)
                   for i, c in enumerate(subs)]
        for t in readers[SLOW:]:
            t.start()

        pub = m.connected(b.mqtt_port, "fan-pub")
        self.addCleanup(pub.close)
        for seq in range(MESSAGES):
            pub.send(m.publish("fan/t", f"{seq:06d}".encode() + b"x" * (PAYLOAD - 6), qos=1, pid=seq % 60000 + 1))
            if seq == MESSAGES // 3:
                leaver.sock.close()  # unread output, then gone: the broker's next write fails
        acks = 0
        while acks < MESSAGES:
            if pub.read(30).type == m.PUBACK:
                acks += 1
        for t in readers[:SLOW]:
            t.start()
        for t in readers:
            t.join(60)

        for i, seqs in enumerate(got):
            self.assertEqual(seqs, list(range(MESSAGES)), f"subscriber {i} (slow={i < SLOW})")
        self.assertTrue(b.alive(), b.log_tail())
        return b.metric("sluice_sends_batched_total"), b.log_tail()

    def test_batched_sends_deliver_everything_in_order(self):
        batched, log = self.fan_out(io_uring=True)
        if "io_uring unavailable" in log:
            self.skipTest("io_uring refused by this kernel: the batched path did not run")
        # One flush of every subscriber per loop iteration: a round of sends per batch of
        # PUBLISHes read, not one per message.
        self.assertGreaterEqual(batched, SUBSCRIBERS - SLOW)

    def test_one_send_each_delivers_everything_in_order(self):
        self.assertEqual(self.fan_out(io_uring=False)[0], 0)


if __name__ == "__main__":
    harness.main()
