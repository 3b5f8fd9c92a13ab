#!/usr/bin/python3
"""Publishes N QoS 1 messages to TOPIC through the broker at PORT, P processes in
parallel, each keeping up to 500 unacknowledged (for bench/recovery.sh). Waits for every
PUBACK; exits non-zero if any publish failed."""
import multiprocessing
import sys
import threading

import paho.mqtt.client as mqtt


def worker(port, topic, start, count, out):
    c = mqtt.Client(f"fill-{start}", protocol=mqtt.MQTTv311)
    c.max_inflight_messages_set(500)
    c.max_queued_messages_set(0)
    done = threading.Semaphore(0)
    room = threading.Semaphore(2000)

    def on_publish(cl, u, mid):
        room.release()
        done.release()

    c.on_publish = on_publish
    c.connect("127.0.0.1", port)
    c.loop_start()
    for i in range(start, start + count):
        room.acquire()
        if c.publish(topic, b"message %d" % i, qos=1).rc != mqtt.MQTT_ERR_SUCCESS:
            out.put(1)
            return
    for _ in range(count):
        if not done.acquire(timeout=120):
            out.put(1)
            return
    c.disconnect()
    c.loop_stop()
    out.put(0)


if __name__ == "__main__":
    port, n, topic = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    procs = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    out = multiprocessing.Queue()
    per = (n + procs - 1) // procs
    ps = []
    for k in range(procs):
        cnt = min(per, n - k * per)
        if cnt <= 0:
            break
        ps.append(multiprocessing.Process(target=worker, args=(port, topic, k * per, cnt, out)))
    for p in ps:
        p.start()
    rc = sum(out.get() for _ in ps)
    for p in ps:
        p.join()
    sys.exit(1 if rc else 0)
