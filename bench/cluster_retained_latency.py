#!/usr/bin/python3
"""SUBSCRIBE -> its retained message, one node alone vs a node of a 3-node cluster, where the
retained messages wait until the node's mirror of SLUICE_RETAINED has caught up
(docs/cluster.md "Retained messages"). N subscribes one after another on a raw socket
(TCP_NODELAY), each for a topic whose retained message was written long before; three runs
each. Usage: SLUICE_BIN=$PWD/build/sluice bench/cluster_retained_latency.py (N=500)."""
import os
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import harness  # noqa: E402
import mqtt_raw as raw  # noqa: E402
from cluster_harness import Cluster  # noqa: E402
from paho_client import Client, uid  # noqa: E402

N = int(os.environ.get("N", "500"))

def run(node_pub, node_sub, label, n=N):
    pub = Client(node_pub)
    t = uid("rl")
    for i in range(n):
        pub.pub(f"{t}/{i}", b"x", qos=0, retain=True)
    pub.pub(f"{t}/end", b"x", qos=1, retain=True)
    time.sleep(1.0)
    c = raw.connected(node_sub.port("tcp"), uid("s"))
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    lat = []
    for i in range(n):
        t0 = time.perf_counter()
        c.send(raw.subscribe(i + 1, [(f"{t}/{i}", 0)]))
        got = set()
        while "PUBLISH" not in got:
            got.add(c.read(5).name)
        lat.append((time.perf_counter() - t0) * 1e6)
    lat.sort()
    print(f"{label}: n={n} p50={statistics.median(lat):.0f} us p90={lat[int(n*.9)]:.0f} p99={lat[int(n*.99)]:.0f} max={lat[-1]:.0f}")
    pub.close(); c.close()

single = harness.Broker(threads=2).start()
try:
    for _ in range(3):
        run(single, single, "single node")
finally:
    single.stop()
c = Cluster(nodes=3, servers=3).start()
try:
    for _ in range(3):
        run(c.nodes[0], c.nodes[1], "cluster (3 nodes, 3 NATS servers)")
finally:
    c.stop()
