#!/usr/bin/python3
"""A node cut off from PostgreSQL stops serving instead of splitting the brain (issue 17,
docs/cluster.md "Node liveness and the split brain").

Three Sluice nodes on NATS and one PostgreSQL (scripts/pg.sh); node 1 reaches PostgreSQL
through a TCP relay in this test, the others directly. The relay is cut two ways: refused
(every connection reset) and hung (connections accepted and held, nothing forwarded either
way: what a hung server or a network dropping packets looks like, where TCP keepalives see
nothing wrong). Each time: node 1's client gets DISCONNECT 0x88 within a few seconds and new
CONNECTs there get 0x88, while clients on nodes 2 and 3 go on publishing and receiving; node 2
finds node 1's lease in PostgreSQL ran out (sluice_cluster_peer_lease 0); once the relay
forwards again node 1 serves again without a restart, with a new epoch in cluster_nodes, and
messages cross between node 1 and the others. The hung connections stay hung after the relay
is restored: a node waiting on one for good would never come back.

Skipped (with the reason) only when Debian's postgresql server is not installed."""
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from cluster_harness import Cluster  # noqa: E402
import mqtt_raw as raw  # noqa: E402
from paho_client import Client, uid  # noqa: E402
from test_pg_cluster import HAVE_PG, PG_SH, SKIP_WHY, Postgres  # noqa: E402

SERVER_UNAVAILABLE = 0x88


def _reset(sock):
    """Closes with a reset (SO_LINGER 0), waking a thread blocked on it."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class PgRelay:
    """A TCP relay to PostgreSQL that the test cuts. forward(): new connections are relayed.
    refuse(): every open relayed connection is reset, and so is each new one. hang(): open
    relayed connections stop forwarding (what arrives is read and dropped, so the sender's
    kernel still acknowledges it) and new ones are accepted and held without a byte forwarded.
    Hung connections stay hung for good, also after forward()."""

    def __init__(self, target_port):
        self.target = (harness.HOST, target_port)
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((harness.HOST, 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.mode = "forward"
        self.lock = threading.Lock()
        self.pairs = []   # relayed (client, upstream) pairs, open
        self.hung = set()  # ids of pairs that forward nothing any more
        self.held = []    # connections accepted while hanging
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            with self.lock:
                mode = self.mode
                if mode == "hang":
                    self.held.append(c)
                    continue
            if mode == "refuse" or self.closed:
                _reset(c)
                continue
            try:
                u = socket.create_connection(self.target, timeout=5)
                u.settimeout(None)
            except OSError:
                _reset(c)
                continue
            pair = (c, u)
            with self.lock:
                self.pairs.append(pair)
            threading.Thread(target=self._pump, args=(c, u, pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, pair), daemon=True).start()

    def _pump(self, src, dst, pair):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self.lock:
                    hung = id(pair) in self.hung
                if not hung:
                    dst.sendall(data)
        except OSError:
            pass
        with self.lock:
            if id(pair) in self.hung:
                return  # held open: the other side must find out by itself
            if pair in self.pairs:
                self.pairs.remove(pair)
        for s in pair:
            _reset(s)

    def forward(self):
        with self.lock:
            self.mode = "forward"

    def refuse(self):
        with self.lock:
            self.mode = "refuse"
            pairs = [p for p in self.pairs if id(p) not in self.hung]
        for c, u in pairs:
            _reset(c)
            _reset(u)

    def hang(self):
        with self.lock:
            self.mode = "hang"
            for p in self.pairs:
                self.hung.add(id(p))

    def close(self):
        self.closed = True
        _reset(self.lsock)
        with self.lock:
            socks = [s for p in self.pairs for s in p] + self.held
        for s in socks:
            _reset(s)


class PgCluster(Cluster):
    """Cluster whose node i is given --postgres conninfos[i]."""

    def __init__(self, conninfos, **kw):
        super().__init__(nodes=len(conninfos), **kw)
        self.conninfos = conninfos

    def node_args(self, i):
        return super().node_args(i) + ["--postgres", self.conninfos[i]]


def gauge(broker, name, **labels):
    """The sample of `name` with these labels in the broker's /metrics (None: absent)."""
    for line in broker.metrics_text().splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


wait_for = harness.wait_for


def connack_reason(port):
    c = raw.RawConn(port)
    try:
        c.send(raw.connect(uid("probe")))
        return c.read(3.0).reason
    except (raw.Closed, TimeoutError, OSError):
        return None
    finally:
        c.close()


@unittest.skipUnless(HAVE_PG, SKIP_WHY)
@harness.skip_on_mosquitto("the cluster is sluice's")
class PgCutOff(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = Postgres()
        try:
            port = int(re.search(r"\bport=(\d+)", cls.pg.conninfo).group(1))
            cls.relay = PgRelay(port)
            via = re.sub(r"\bport=\d+", f"port={cls.relay.port}", cls.pg.conninfo)
            cls.cluster = PgCluster([via, cls.pg.conninfo, cls.pg.conninfo], servers=1).start()
        except Exception:
            cls.pg.stop()
            raise
        cls.n = cls.cluster.nodes

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()
        cls.relay.close()
        cls.pg.stop()

    def setUp(self):
        self.clients = []
        self.relay.forward()
        self.assertTrue(wait_for(lambda: connack_reason(self.n[0].port("tcp")) == 0, 15),
                        f"node 1 serves at the start:\n{self.n[0].log_tail()}")

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.relay.forward()
        for i, node in enumerate(self.n):
            self.assertTrue(node.alive(), f"node {i + 1} died:\n{node.log_tail()}")

    def client(self, node):
        c = Client(self.n[node])
        self.clients.append(c)
        return c

    def epoch_in_pg(self, node):
        """node's epoch in cluster_nodes; None without a row (or a table)."""
        r = subprocess.run([PG_SH, "psql", self.pg.dir, "-tA", "-c",
                            f"SELECT epoch FROM cluster_nodes WHERE node = '{node}'"],
                           capture_output=True, text=True, timeout=30)
        return int(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip() else None

    def cut_and_come_back(self, cut):
        n = self.n
        t = uid("pgcut")
        sub2 = self.client(1)
        sub2.sub(f"{t}/#", qos=1)
        pub3 = self.client(2)
        live = raw.connected(n[0].port("tcp"), uid("live"))
        time.sleep(0.5)  # node 2's interest reaches NATS
        pub3.pub(f"{t}/before", b"before", qos=1)
        self.assertEqual([m.payload for m in sub2.drain(1.0)], [b"before"])
        epoch = self.epoch_in_pg("n1")

        cut()
        t0 = time.monotonic()
        packets = live.read_until_close(10.0)
        took = time.monotonic() - t0
        live.close()
        self.assertEqual([(p.name, p.reason) for p in packets], [("DISCONNECT", SERVER_UNAVAILABLE)])
        # 3 s without a renewal counted from the last one (at most 1 s before the cut), and
        # the watchdog's tick (250 ms).
        self.assertLess(took, 6.0, "closed within the cut-off")
        print(f"BENCH node 1 closed its clients {took:.2f} s after the cut", file=sys.stderr)
        self.assertEqual(connack_reason(n[0].port("tcp")), SERVER_UNAVAILABLE, "CONNECT refused with 0x88")
        self.assertEqual(gauge(n[0], "sluice_cluster_serving", node="n1"), 0)

        # The other nodes go on: a publisher on node 3 reaches a subscriber on node 2, a new
        # client connects on node 2.
        pub3.pub(f"{t}/during", b"during", qos=1)
        self.assertEqual([m.payload for m in sub2.drain(1.0)], [b"during"])
        self.assertEqual(connack_reason(n[1].port("tcp")), 0)
        # Node 2 takes node 1 for dead once its lease ran out (5 s, PostgreSQL's clock), and
        # node 3 for alive.
        self.assertTrue(wait_for(lambda: gauge(n[1], "sluice_cluster_peer_lease", node="n2", peer="n1") == 0, 8),
                        f"node 2 found node 1's lease ran out:\n{n[1].log_tail()}")
        self.assertEqual(gauge(n[1], "sluice_cluster_peer_lease", node="n2", peer="n3"), 1)
        # Still cut off: still refused.
        self.assertEqual(connack_reason(n[0].port("tcp")), SERVER_UNAVAILABLE)

        self.relay.forward()
        t1 = time.monotonic()
        self.assertTrue(wait_for(lambda: connack_reason(n[0].port("tcp")) == 0, 15, step=0.25),
                        f"node 1 serves again once PostgreSQL is back:\n{n[0].log_tail()}")
        print(f"BENCH node 1 served again {time.monotonic() - t1:.2f} s after PostgreSQL came back",
              file=sys.stderr)
        self.assertIsNotNone(epoch, "node 1 had a row in cluster_nodes")
        again = self.epoch_in_pg("n1")
        self.assertGreater(again, epoch, "rejoined with a new epoch")
        self.assertEqual(gauge(n[0], "sluice_cluster_lease_epoch", node="n1"), again)
        self.assertTrue(wait_for(lambda: gauge(n[1], "sluice_cluster_peer_lease", node="n2", peer="n1") == 1, 5))

        # Across nodes again, both ways, QoS 1 through the log.
        sub1 = self.client(0)
        sub1.sub(f"{t}/#", qos=1)
        time.sleep(0.5)
        pub3.pub(f"{t}/after", b"after", qos=1)
        self.assertEqual([m.payload for m in sub1.drain(1.5)], [b"after"])
        self.client(0).pub(f"{t}/from1", b"from node 1", qos=1)
        self.assertEqual(sorted(m.payload for m in sub2.drain(1.5)), [b"after", b"from node 1"])

    def test_refused_postgres(self):
        self.cut_and_come_back(self.relay.refuse)

    def test_hung_postgres(self):
        self.cut_and_come_back(self.relay.hang)


if __name__ == "__main__":
    unittest.main(verbosity=2)
