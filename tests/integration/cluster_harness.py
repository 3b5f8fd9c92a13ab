"""Several Sluice nodes as one service, for the cluster tests (docs/cluster.md).

NatsCluster runs scripts/nats.sh (N nats-server with JetStream, routed to each other on
free loopback ports); Cluster starts that and N `sluice serve --nats ... --node-name nI`
nodes through harness.Broker (free ports, temp dirs, always killed). Everything is
stopped at exit, whatever happens.
"""
import atexit
import os
import subprocess
import tempfile
import unittest

import harness

SCRIPTS = os.path.join(harness.SRC, "scripts")
_live = []


class NatsCluster:
    def __init__(self, servers=3):
        self.servers = servers
        self.dir = tempfile.mkdtemp(prefix="sluice-nats-")
        self.urls = None

    def start(self):
        out = subprocess.run([os.path.join(SCRIPTS, "nats.sh"), "start", os.path.join(self.dir, "c"),
                              str(self.servers)], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"nats.sh start failed: {out.stderr}")
        self.urls = out.stdout.strip()
        _live.append(self)
        return self

    def kill(self, i):
        """kill -9 server i (1-based), keeping its store."""
        subprocess.run([os.path.join(SCRIPTS, "nats.sh"), "kill", os.path.join(self.dir, "c"), str(i)], timeout=30)

    def start_one(self, i):
        subprocess.run([os.path.join(SCRIPTS, "nats.sh"), "start-one", os.path.join(self.dir, "c"), str(i)],
                       timeout=60, check=True)

    def stop(self):
        subprocess.run([os.path.join(SCRIPTS, "nats.sh"), "stop", os.path.join(self.dir, "c")], timeout=30)
        if self in _live:
            _live.remove(self)


class Cluster:
    """nodes Sluice nodes (anonymous by default) on a NATS cluster of `servers`."""

    def __init__(self, nodes=3, servers=3, extra_args=(), threads=2):
        self.nats = NatsCluster(servers)
        self.count = nodes
        self.extra_args = list(extra_args)
        self.threads = threads
        self.nodes = []

    def node_args(self, i):
        return ["--nats", self.nats.urls, "--node-name", f"n{i + 1}", *self.extra_args]

    def start(self):
        self.nats.start()
        for i in range(self.count):
            self.nodes.append(harness.Broker(threads=self.threads, extra_args=self.node_args(i)).start())
        return self

    def stop(self):
        for n in self.nodes:
            n.stop()
        self.nodes = []
        self.nats.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class ClusterCase(unittest.TestCase):
    """Three Sluice nodes on three nats-server for the whole class (self.n[0..2]);
    after each test, every node must still be running."""

    @classmethod
    def setUpClass(cls):
        cls.cluster = Cluster(nodes=3, servers=3).start()
        cls.n = cls.cluster.nodes

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def tearDown(self):
        for i, node in enumerate(self.n):
            self.assertTrue(node.alive(), f"node {i + 1} died:\n{node.log_tail()}")


@atexit.register
def _stop_all():
    for n in list(_live):
        try:
            n.stop()
        except Exception:
            pass
