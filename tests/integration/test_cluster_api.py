#!/usr/bin/python3
"""The management API of a cluster answers for the whole service (issue 17, docs/cluster.md
"The management API across nodes"): a load balancer sends each call to any node, and the
client asked about may be connected to another.

- QuerySessionByClientId / BatchQuerySessionByClientIds through any node: a client on another
  node is online there, with its address and subscriptions; a persistent session left
  offline on another node is known, offline, with its subscriptions; a client id never seen
  is unknown.
- CloseConnection through any node closes the client where it is connected (MQTT 5: DISCONNECT
  0x98, administrative action), and a close asked for a client connected nowhere does not
  close its next connection.
- QueryMqttTraceDevice through any node has the client's connects and disconnects from every
  node it used, in time order.

Three nodes on one throwaway PostgreSQL control store and three routed nats-server with
JetStream. Skipped (with the reason) only when Debian's postgresql server is not installed."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from auth_harness import rpc  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402
from test_pg_cluster import HAVE_PG, SKIP_WHY, ClusterNodes  # noqa: E402


@unittest.skipUnless(HAVE_PG, SKIP_WHY)
@harness.skip_on_mosquitto("clusters are sluice's")
class ManagementApiAcrossNodes(ClusterNodes):
    def setUp(self):
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()

    def call(self, i, action, **params):
        s, body = rpc(self.n[i], self.t.key_id, self.t.secret, "OnsMqtt", action, InstanceId=self.t.instance, **params)
        self.assertEqual(s, 200, body)
        return body

    def connect(self, i, device, **kw):
        return self.connect_retrying(i, device, **kw)

    def eventually(self, what, pred, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            got = pred()
            if got or time.monotonic() > deadline:
                self.assertTrue(got, what)
                return got
            time.sleep(0.1)

    def test_a_client_on_another_node_is_online_through_every_node(self):
        c = self.connect(0, "online-on-1")
        self.assertEqual(c.subscribe(f"{self.t.topic}/a/+", qos=1), [1])
        cid = self.t.cid("online-on-1")
        for i in (1, 2, 0):
            body = self.call(i, "QuerySessionByClientId", ClientId=cid)
            self.assertIs(body["OnlineStatus"], True, f"through node {i + 1}: {body}")
            self.assertEqual(body["RemoteIp"], harness.HOST)
            self.assertEqual(body["Subscriptions"], [{"TopicFilter": f"{self.t.topic}/a/+", "Qos": 1}])

    def test_the_batch_answers_for_every_node(self):
        p = Properties(PacketTypes.CONNECT)
        p.SessionExpiryInterval = 600
        parked = self.connect(0, "parked-on-1", clean=False, properties=p)
        self.assertEqual(parked.subscribe(f"{self.t.topic}/p", qos=1), [1])
        parked.close()
        self.connect(1, "online-on-2")
        ids = [self.t.cid(d) for d in ("parked-on-1", "online-on-2", "never-seen")]
        params = {f"ClientIdList.{k + 1}": cid for k, cid in enumerate(ids)}

        def answered():
            body = self.call(2, "BatchQuerySessionByClientIds", **params)
            by_id = {s["ClientId"]: s for s in body["OnlineStatusList"]}
            return by_id if not by_id[ids[0]].get("OnlineStatus") else None
        by_id = self.eventually("the parked session went offline", answered)
        self.assertEqual(set(by_id), set(ids))
        self.assertIs(by_id[ids[1]]["OnlineStatus"], True)
        self.assertIs(by_id[ids[2]]["OnlineStatus"], False)
        body = self.call(2, "QuerySessionByClientId", ClientId=ids[0])
        self.assertIs(body["OnlineStatus"], False)
        self.assertEqual(body["Subscriptions"], [{"TopicFilter": f"{self.t.topic}/p", "Qos": 1}],
                         "the offline session held by node 1, asked through node 3")
        body = self.call(2, "QuerySessionByClientId", ClientId=ids[2])
        self.assertNotIn("RemoteIp", body)

    def test_close_connection_through_another_node(self):
        c = self.connect(0, "closed-from-3")
        cid = self.t.cid("closed-from-3")
        self.call(2, "CloseConnection", ClientId=cid)
        self.assertTrue(c.disconnected.wait(5), "the client on node 1 was not closed")
        self.assertEqual(c.disconnect_rc, 0x98)  # administrative action
        c.close()  # before paho's loop connects it again by itself (it would take the id over)
        # Nothing is left behind: the client connects again and stays.
        self.call(1, "CloseConnection", ClientId=self.t.cid("nowhere"))
        again = self.connect(0, "closed-from-3")
        self.assertEqual(again.subscribe(f"{self.t.topic}/x", qos=0), [0])
        time.sleep(1.5)
        self.assertFalse(again.disconnected.is_set(), f"closed again: {again.disconnect_rc}")
        later = self.connect(1, "nowhere")
        self.call(0, "UpdateInstance", InstanceName="acme-inst")  # wakes every connection's access check
        time.sleep(1.0)
        self.assertFalse(later.disconnected.is_set(), "an old close request closed a later connection")

    def test_device_traces_of_every_node(self):
        device = "traced"
        cid = self.t.cid(device)
        first = self.connect(0, device)
        first.close()
        time.sleep(0.3)
        self.connect(1, device)

        def traced():
            body = self.call(2, "QueryMqttTraceDevice", ClientId=cid, PageSize=100,
                             BeginTime=int((time.time() - 600) * 1000), EndTime=int((time.time() + 60) * 1000))
            rows = body["DeviceInfoList"]
            return rows if sum(r["Action"] == "connect" for r in rows) >= 2 else None
        rows = self.eventually("both connects, from nodes 1 and 2", traced)
        actions = [r["Action"] for r in rows]
        self.assertEqual(actions[0], "connect", actions)
        self.assertIn("disconnect", actions)
        self.assertEqual([r["Time"] for r in rows], sorted(r["Time"] for r in rows))


if __name__ == "__main__":
    unittest.main(verbosity=2)
