#!/usr/bin/python3
"""Write on node A, effect on node B: two Sluice nodes on one throwaway PostgreSQL
(scripts/pg.sh), loopback.

  visible: CreateGroupId answered on node 1 -> ListGroupId on node 2 lists it
           (node 2 polled every 2 ms; its MQ snapshot reloads on the NOTIFY)
  revoked: DetachPolicyFromUser answered on node 2 -> a client of node 1 disconnected
           (IAM per-account invalidation + the broker's 250 ms access check)

Usage: SLUICE_BIN=build/sluice /usr/bin/python3 bench/pg_propagation.py [visible_runs] [revoke_runs]
Prints p50 / p90 / p99 / max in ms."""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import test_pg_cluster as t  # noqa: E402
from auth_harness import MqttClient, Tenant, rpc, sign  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def show(name, xs):
    print(f"{name}: n={len(xs)} p50={pct(xs, 50):.1f} ms p90={pct(xs, 90):.1f} ms p99={pct(xs, 99):.1f} ms "
          f"max={max(xs):.1f} ms mean={statistics.mean(xs):.1f} ms")


def main():
    visible_runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    revoke_runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    pg = t.Postgres()
    key = t.master_key()
    nodes = [t.node(pg, key) for _ in range(2)]
    try:
        for b in nodes:
            b.prepare()
        ten = Tenant(nodes[0], "acme")
        for b in nodes:
            b.start()
        k = (ten.key_id, ten.secret)

        def call(i, action, product="OnsMqtt", **p):
            return rpc(nodes[i], k[0], k[1], product, action, **p)

        vis = []
        for r in range(visible_runs):
            g = f"GID_prop{r:04d}"
            s, body = call(0, "CreateGroupId", InstanceId=ten.instance, GroupId=g)
            assert s == 200, body
            t0 = time.monotonic()
            while g not in str(call(1, "ListGroupId", InstanceId=ten.instance)[1]):
                time.sleep(0.002)
            vis.append((time.monotonic() - t0) * 1000)
        show("visible (CreateGroupId on node 1 -> ListGroupId on node 2)", vis)

        rev = []
        call(0, "CreateUser", product="Ram", UserName="dev")
        s, body = call(0, "CreateAccessKey", product="Ram", UserName="dev")
        uk = (body["AccessKey"]["AccessKeyId"], body["AccessKey"]["AccessKeySecret"])
        for r in range(revoke_runs):
            s, body = call(0, "AttachPolicyToUser", product="Ram", PolicyType="System",
                           PolicyName="AliyunMQFullAccess", UserName="dev")
            assert s == 200, body
            cid = ten.cid(f"d{r}")
            c = None
            for _ in range(50):
                c = MqttClient(nodes[0], cid, ten.sig_user(uk[0]), sign(uk[1], cid))
                if c.rc == 0:
                    break
                c.close()
                time.sleep(0.05)
            assert c.rc == 0
            time.sleep(0.3)
            s, body = call(1, "DetachPolicyFromUser", product="Ram", PolicyType="System",
                           PolicyName="AliyunMQFullAccess", UserName="dev")
            assert s == 200, body
            t0 = time.monotonic()
            assert c.disconnected.wait(5)
            rev.append((time.monotonic() - t0) * 1000)
            c.close()
        show("revoked (DetachPolicyFromUser on node 2 -> client of node 1 disconnected)", rev)
    finally:
        for b in nodes:
            b.stop()
        pg.stop()


if __name__ == "__main__":
    main()
