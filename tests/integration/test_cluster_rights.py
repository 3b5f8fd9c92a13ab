#!/usr/bin/python3
"""Rights across the nodes of a cluster (issue 17, docs/cluster.md "Wills", docs/security.md).

A right is checked where it is used, also when the node that checked it is gone: a client
connected on node A with a will, node A killed with kill -9, and the grant that let the
client publish the will's topic revoked (through node C) before a survivor sends the will:
the will must not arrive, and the refusal is audited (mqtt.will.denied) as on one node. With
the grant in place the will arrives, once. The same for the delayed will of a session whose
connection had closed on node A before it died (kept in SLUICE_WILLS until it is due).

Per-instance limits hold cluster-wide: MaxInstanceMessagesPerSecond is shared between the
nodes by their demand (broker/publish_rate.hpp): two publishers on two nodes, each above the
limit, get the limit together, not each.

Four nodes on one throwaway PostgreSQL control store and three routed nats-server with
JetStream (cluster_harness.NatsCluster); the nodes' leases run out 4 s after a kill.
Skipped (with the reason) only when Debian's postgresql server is not installed."""
import os
import signal
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from auth_harness import rpc  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402
from test_pg_cluster import HAVE_PG, SKIP_WHY, ClusterNodes  # noqa: E402

LEASE_S = 4  # a node not heard for this long is dead (cluster/leases.hpp)


def metric(b, name, label):
    with urllib.request.urlopen(f"http://{harness.HOST}:{b.http_port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + "{") and label in line:
                return float(line.rsplit(" ", 1)[1])
    return 0.0


@unittest.skipUnless(HAVE_PG, SKIP_WHY)
@harness.skip_on_mosquitto("clusters are sluice's")
class WillsOfADeadNode(ClusterNodes):
    """Nodes 1 to 3 are the victims (one per test), node 4 the survivor with the watcher."""
    NODES = 4

    def setUp(self):
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()

    def call(self, action, product="Ram", **params):
        s, body = rpc(self.n[3], self.t.key_id, self.t.secret, product, action, **params)
        self.assertEqual(s, 200, body)
        return body

    def user_with_key(self, name):
        self.call("CreateUser", UserName=name)
        self.call("AttachPolicyToUser", PolicyType="System", PolicyName="AliyunMQFullAccess", UserName=name)
        body = self.call("CreateAccessKey", UserName=name)
        return body["AccessKey"]["AccessKeyId"], body["AccessKey"]["AccessKeySecret"]

    def connect(self, i, key, device, **kw):
        return self.connect_retrying(i, device, key, **kw)

    def denied(self, victim):
        """Wills of dead nodes refused by the nodes alive now, other than `victim` (to be killed)."""
        return sum(metric(b, "sluice_cluster_orphan_wills_total", 'what="denied"')
                   for i, b in enumerate(self.n) if i != victim and b.alive())

    def armed_then_killed(self, victim, user, topic, delay_s=0):
        """A client of `user` on node `victim` with a will on `topic`; a watcher on node 4;
        then node `victim` is killed with kill -9. With `delay_s`, the client has a session
        (expiry 60 s) and a will delayed that long, and its connection drops before the kill:
        the will waits, scheduled, when the node dies. Returns the watcher."""
        key = self.user_with_key(user)
        watcher = self.connect(3, (self.t.key_id, self.t.secret), f"watch-{user}")
        self.assertEqual(watcher.subscribe(f"{self.t.topic}/will/#"), [1])
        will = dict(topic=topic, payload=f"last words of {user}".encode(), qos=1)
        kw = {}
        if delay_s:
            wp = Properties(PacketTypes.WILLMESSAGE)
            wp.WillDelayInterval = delay_s
            will["properties"] = wp
            cp = Properties(PacketTypes.CONNECT)
            cp.SessionExpiryInterval = 60
            kw = dict(clean=False, properties=cp)
        c = self.connect(victim, key, user, will=will, **kw)
        time.sleep(1.0)  # the will is in SLUICE_WILLS (an asynchronous write)
        if delay_s:
            c.drop()
            time.sleep(1.0)  # scheduled on its node, and kept in SLUICE_WILLS
        self.n[victim].stop(sig=signal.SIGKILL)
        return watcher

    def test_will_of_a_dead_node_goes_out_once_with_the_grant_in_place(self):
        topic = f"{self.t.topic}/will/kept"
        watcher = self.armed_then_killed(0, "willkept", topic)
        m = watcher.get(LEASE_S + 6)
        self.assertEqual((m.topic, m.payload), (topic, b"last words of willkept"))
        self.assertIsNone(watcher.none(2.0), "the will went out twice")

    def test_will_of_a_dead_node_is_refused_after_the_grant_was_revoked(self):
        topic = f"{self.t.topic}/will/revoked"
        before = self.denied(1)
        watcher = self.armed_then_killed(1, "willgone", topic)
        # Revoked after the client connected, while its node is dead: only the survivor
        # that sends the will can notice.
        self.call("DetachPolicyFromUser", PolicyType="System", PolicyName="AliyunMQFullAccess", UserName="willgone")
        self.assertIsNone(watcher.none(LEASE_S + 6), "a dead node's will went out after its client's grant was revoked")
        self.assertEqual(self.denied(1) - before, 1, "no survivor counted a refused will")
        # Audited as on one node (the audit log is the shared control store's).
        deadline = time.monotonic() + 5
        while True:
            body = self.call("LookupEvents", product="Actiontrail")
            if "mqtt.will.denied" in str(body) and topic in str(body):
                break
            self.assertLess(time.monotonic(), deadline, f"the refused will was not audited: {body}")
            time.sleep(0.3)


    def test_delayed_will_of_an_offline_session_is_refused_after_the_grant_was_revoked(self):
        topic = f"{self.t.topic}/will/delayed"
        before = self.denied(2)
        watcher = self.armed_then_killed(2, "willlate", topic, delay_s=6)
        self.call("DetachPolicyFromUser", PolicyType="System", PolicyName="AliyunMQFullAccess", UserName="willlate")
        self.assertIsNone(watcher.none(LEASE_S + 8), "a delayed will went out after its client's grant was revoked")
        self.assertEqual(self.denied(2) - before, 1, "no survivor counted a refused will")


    def test_instance_message_rate_limit_holds_across_nodes(self):
        # Runs before the tests that kill nodes 1 and 2 (alphabetical order); node 3 may be dead.
        limit, rate, seconds, settle = 40, 60, 7, 3
        self.call("UpdateInstance", product="OnsMqtt", InstanceId=self.t.instance,
                  MaxInstanceMessagesPerSecond=str(limit))
        self.addCleanup(self.call, "UpdateInstance", product="OnsMqtt", InstanceId=self.t.instance,
                        MaxInstanceMessagesPerSecond="0")
        time.sleep(1.0)  # every node hears the new limit (NOTIFY)
        root = (self.t.key_id, self.t.secret)
        sub = self.connect(3, root, "rate-sub")
        self.assertEqual(sub.subscribe(f"{self.t.topic}/rate/#", qos=0), [0])
        pubs = [self.connect(i, root, f"rate-pub{i}") for i in (0, 1)]
        time.sleep(0.5)
        start = time.monotonic()
        sent = 0
        got = []  # (seconds since start, topic)

        def drain():
            while True:
                try:
                    m = sub.messages.get_nowait()
                except Exception:
                    return
                got.append((time.monotonic() - start, m.topic))

        while time.monotonic() - start < seconds:
            for i, p in enumerate(pubs):
                p.c.publish(f"{self.t.topic}/rate/{i}", b"x", qos=0)
            sent += 1
            drain()
            time.sleep(max(0.0, sent / rate - (time.monotonic() - start)))
        time.sleep(0.3)
        drain()
        # The first seconds are the shares settling (each node starts with the whole limit
        # until the beats tell it the other's demand); then the nodes get the limit together.
        steady = [t for at, t in got if settle <= at < seconds]
        per_node = [sum(1 for t in steady if t.endswith(f"/{i}")) for i in (0, 1)]
        window = seconds - settle
        sys.stderr.write(f"rate limit {limit}/s, 2 publishers x {rate}/s on 2 nodes: {len(got)} delivered in "
                         f"{seconds} s, {len(steady)} in the last {window} s ({per_node})\n")
        self.assertLessEqual(len(steady), limit * window * 1.25, "each node allowed the instance's whole limit")
        self.assertGreaterEqual(len(steady), limit * window * 0.75, "the nodes together allowed far less than the limit")
        self.assertTrue(all(n >= limit * window / 4 for n in per_node), f"one node got (almost) no share: {per_node}")


if __name__ == "__main__":
    harness.main()
