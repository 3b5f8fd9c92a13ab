#!/usr/bin/python3
"""The management API's per-client calls on a cluster (docs/cluster.md "The management API
across nodes"): QuerySessionByClientId for a client connected to node 1, called through node 1
(answered by its own broker, no question to the others) and through node 2 (the others are
asked over NATS); a batch of 100 ids through node 2 (one question); CloseConnection through
node 2. Three nodes on one PostgreSQL control store and three nats-server; N calls each, one
after another, each signed (its nonce recorded in PostgreSQL) on a new HTTP connection, as
the tests' rpc() makes them; three runs.
Usage: SLUICE_BIN=$PWD/build/sluice bench/cluster_api_latency.py (N=200)."""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from auth_harness import MqttClient, Tenant, rpc, sign  # noqa: E402
from cluster_harness import NatsCluster  # noqa: E402
from test_pg_cluster import Postgres, master_key, node  # noqa: E402

N = int(os.environ.get("N", "200"))


def timed(label, fn, n=N):
    lat = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        lat.append((time.perf_counter() - t0) * 1e3)
    lat.sort()
    print(f"{label}: n={n} p50={statistics.median(lat):.2f} ms p90={lat[int(n * .9)]:.2f} "
          f"p99={lat[int(n * .99)]:.2f} max={lat[-1]:.2f}", flush=True)


def main():
    nats = NatsCluster(3).start()
    pg = Postgres()
    key = master_key()
    n = [node(pg, key, extra=["--nats", nats.urls, "--node-name", f"n{i + 1}"]) for i in range(3)]
    try:
        for b in n:
            b.prepare()
        t = Tenant(n[0], "acme")
        for b in n:
            b.start()
        time.sleep(5)  # past the nodes' first seconds (PeerCalls waits for whoever answers then)
        cid = t.cid("bench")
        c = None
        for _ in range(40):
            c = MqttClient(n[0], cid, t.sig_user(t.key_id), sign(t.secret, cid))
            if c.rc == 0:
                break
            time.sleep(0.1)
        c.subscribe(f"{t.topic}/#", qos=1)

        def query(i, client=cid):
            s, body = rpc(n[i], t.key_id, t.secret, "OnsMqtt", "QuerySessionByClientId", InstanceId=t.instance,
                          ClientId=client)
            assert s == 200 and body["OnlineStatus"], body
        ids = {f"ClientIdList.{k + 1}": t.cid(f"x{k}") for k in range(99)}
        ids["ClientIdList.100"] = cid

        def batch():
            s, body = rpc(n[1], t.key_id, t.secret, "OnsMqtt", "BatchQuerySessionByClientIds",
                          InstanceId=t.instance, **ids)
            assert s == 200 and body["OnlineStatusList"][-1]["OnlineStatus"], body

        def close_nobody():
            s, body = rpc(n[1], t.key_id, t.secret, "OnsMqtt", "CloseConnection", InstanceId=t.instance,
                          ClientId=t.cid("nobody"))
            assert s == 200, body
        for run in range(3):
            timed(f"run {run + 1} QuerySessionByClientId through the client's node", lambda: query(0))
            timed(f"run {run + 1} QuerySessionByClientId through another node", lambda: query(1))
            timed(f"run {run + 1} BatchQuerySessionByClientIds, 100 ids, through another node", batch)
            timed(f"run {run + 1} CloseConnection of a client connected nowhere (all asked)", close_nobody)
        c.close()
    finally:
        for b in n:
            b.stop()
        pg.stop()
        nats.stop()


if __name__ == "__main__":
    main()
