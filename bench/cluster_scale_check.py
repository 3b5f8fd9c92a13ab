#!/usr/bin/python3
"""The correctness side of docs/scaling.md's model, on this machine: NODES (16) single-thread
Sluice nodes on three routed nats-server with JetStream (tests/integration/cluster_harness.py).

For each case it publishes M messages from node 1 and reads every node's
sluice_cluster_messages_received_total (/metrics) before and after, and its CPU time
(/proc/<pid>/stat), and compares with what the model predicts:
  - QoS 0 to subscribers on k nodes: k copies per message leave NATS (only nodes with interest
    receive it); every subscriber gets every message once.
  - QoS 1 to subscribers on k nodes: every node reads every logged message (N copies per
    message, whatever k); the CPU of a node without subscribers is the cost of reading the log.
  - A shared subscription with one member on each of 8 nodes: each message delivered once.
Prints one line per case and exits non-zero when a prediction fails.

  SLUICE_BIN=$PWD/build/sluice NODES=16 M=2000 /usr/bin/python3 bench/cluster_scale_check.py
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from cluster_harness import Cluster  # noqa: E402
from paho_client import Client, uid  # noqa: E402

NODES = int(os.environ.get("NODES", "16"))
M = int(os.environ.get("M", "2000"))
TICK = os.sysconf("SC_CLK_TCK")


def received(node, name):
    out = {}
    for ln in node.metrics_text().splitlines():
        if ln.startswith("sluice_cluster_messages_received_total{"):
            kind = ln.split('kind="')[1].split('"')[0]
            out[kind] = int(ln.split()[-1])
    return out


def cpu_s(node):
    with open(f"/proc/{node.proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def snapshot(nodes):
    return [(received(n, i), cpu_s(n)) for i, n in enumerate(nodes)]


def run_case(nodes, name, qos, sub_nodes, shared=False):
    t = uid("sc")
    flt = f"$share/g/{t}/#" if shared else f"{t}/#"
    subs = [Client(nodes[k], timeout=30) for k in sub_nodes]
    for s in subs:
        s.sub(flt, qos=qos)
    time.sleep(1.0)  # interest reaches every server
    before = snapshot(nodes)
    pub = Client(nodes[0], timeout=30)
    t0 = time.monotonic()
    for i in range(M):
        pub.c.publish(f"{t}/x", f"{i}".encode(), qos=qos)
    deadline = time.monotonic() + 60
    got = [[] for _ in subs]
    want_total = M if shared else M * len(subs)
    while time.monotonic() < deadline and sum(map(len, got)) < want_total:
        for k, s in enumerate(subs):
            got[k].extend(m.payload.decode() for m in s.drain(0.05))
    for k, s in enumerate(subs):
        got[k].extend(m.payload.decode() for m in s.drain(0.5))
    elapsed = time.monotonic() - t0
    time.sleep(1.0)
    after = snapshot(nodes)
    kind = "logged" if qos else "qos0"
    copies = [after[i][0].get(kind, 0) - before[i][0].get(kind, 0) for i in range(len(nodes))]
    cpu = [after[i][1] - before[i][1] for i in range(len(nodes))]
    idle = [cpu[i] for i in range(1, len(nodes)) if i not in sub_nodes]
    ok = True
    if shared:
        allp = [p for g in got for p in g]
        ok &= sorted(allp, key=int) == [str(i) for i in range(M)]
    else:
        ok &= all(g == [str(i) for i in range(M)] for g in got)
    # The model: QoS 0 reaches only nodes with interest (the publisher's own copy is local);
    # the log reaches every node but the publisher's (whose own messages come back too: counted).
    remote_subs = {k for k in sub_nodes if k != 0}
    if qos == 0:
        predicted = [M if i in remote_subs else 0 for i in range(len(nodes))]
    else:
        predicted = [M] * len(nodes)
    ok_copies = all(abs(c - p) <= max(2, p // 100) for c, p in zip(copies[1:], predicted[1:]))
    ok &= ok_copies
    print(f"{name}: {M} msgs QoS {qos} to subscribers on {len(sub_nodes)} of {len(nodes)} nodes"
          f"{' (shared)' if shared else ''}: delivered {sum(map(len, got))} (want {want_total}) in {elapsed:.1f} s; "
          f"copies received per node {copies[1:]} (model {predicted[1:]}); "
          f"CPU of nodes without subscribers {1e6 * sum(idle) / max(1, len(idle)) / M:.1f} us/msg each, "
          f"all nodes {1e6 * sum(cpu) / M:.1f} us/msg; {'OK' if ok else 'MISMATCH'}", flush=True)
    for s in subs:
        s.close()
    pub.close()
    return ok


def main():
    cluster = Cluster(nodes=NODES, servers=3, threads=1).start()
    try:
        n = cluster.nodes
        time.sleep(2.0)
        results = [
            run_case(n, "qos0-spread1", 0, [NODES - 1]),
            run_case(n, "qos0-spread4", 0, [1, 5, 9, 13][: max(1, min(4, NODES - 1))]),
            run_case(n, "qos0-spreadN", 0, list(range(NODES))),
            run_case(n, "qos1-spread1", 1, [NODES - 1]),
            run_case(n, "qos1-spreadN", 1, list(range(NODES))),
            run_case(n, "shared-8", 1, list(range(1, min(NODES, 9))), shared=True),
        ]
    finally:
        cluster.stop()
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
