"""Clients that outlive a node or a NATS server going away, for the cluster's fault tests
(test_cluster_rolling, test_cluster_nats_failure).

MovingPublisher sends QoS 1 on a thread, each message acknowledged before the next; when its
node does not acknowledge (the node stopped, or stopped serving), it connects to the next
node and sends the same message again (at least once). ResumingSubscriber is a persistent
MQTT 5 session (600 s) that records every payload with its arrival time; resume_on(node)
connects with the same client id elsewhere and the session goes on there."""
import threading
import time
from collections import Counter

from paho_client import Client, uid


def forget(c):
    """A client whose node went away: no reconnect attempts, no waiting on it."""
    c.c._thread_terminate = True
    c.c.loop_stop()


class MovingPublisher:
    def __init__(self, nodes, first, topic, rate_s=0.02):
        self.nodes, self.node, self.topic, self.rate_s = nodes, first, topic, rate_s
        self.acked, self.moves = [], []
        self.events = []  # (monotonic time, what failed), for a test's message
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._run)

    def start(self):
        self._th.start()
        return self

    def stop(self):
        self._stop.set()
        self._th.join(60)

    def _connect_somewhere(self):
        while not self._stop.is_set():
            self.node = (self.node + 1) % len(self.nodes)
            try:
                return Client(self.nodes[self.node], timeout=3)
            except Exception as e:  # noqa: BLE001 - that one is down too: the next
                self.events.append((time.monotonic(), f"node {self.node + 1}: {e}"))
                time.sleep(0.2)
        return None

    def _run(self):
        pub = Client(self.nodes[self.node], timeout=3)
        i = 0
        while not self._stop.is_set():
            body = f"m-{i}"
            try:
                pub.pub(self.topic, body.encode(), qos=1)
            except Exception as e:  # noqa: BLE001 - not acknowledged: another node, the same message
                self.events.append((time.monotonic(), f"node {self.node + 1}: {e}"))
                forget(pub)
                pub = self._connect_somewhere()
                if pub is None:
                    return
                self.moves.append(self.node)
                continue
            self.acked.append(body)
            i += 1
            time.sleep(self.rate_s)
        pub.close()


class ResumingSubscriber:
    def __init__(self, nodes, first, topic_filter):
        self.nodes, self.node, self.filter = nodes, first, topic_filter
        self.id = uid("rsub")
        self.got = []  # (payload, monotonic time)
        self._mu = threading.Lock()
        self.c = self._connect(first, clean=True)
        self.c.sub(topic_filter, qos=1)

    def _connect(self, node, clean):
        c = Client(self.nodes[node], version=5, client_id=self.id, clean=clean, session_expiry=600)
        c.c.on_message = self._on_message
        return c

    def _on_message(self, _c, _u, m):
        with self._mu:
            self.got.append((m.payload.decode(), time.monotonic()))

    def resume_on(self, node):
        forget(self.c)
        self.node = node
        self.c = self._connect(node, clean=False)

    def keep_connected(self):
        """If its node closed the connection (stopped serving), resume on the next one."""
        if self.c.c.is_connected():
            return
        for k in range(1, len(self.nodes) + 1):
            try:
                self.resume_on((self.node + k) % len(self.nodes))
                return
            except Exception:  # noqa: BLE001 - that one is not serving either
                time.sleep(0.2)

    def payloads(self):
        with self._mu:
            return [p for p, _ in self.got]

    def wait_for(self, wanted, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not set(wanted) <= set(self.payloads()):
            time.sleep(0.2)

    def gaps(self, since=0.0, top=3):
        """The longest times between two arrivals after `since` (monotonic), longest first, as
        (gap, when it began relative to `since`): the stalls."""
        with self._mu:
            times = [t for _, t in self.got if t >= since]
        return sorted(((b - a, a - since) for a, b in zip(times, times[1:])), reverse=True)[:top]

    def report(self, acked):
        seen = Counter(self.payloads())
        missing = [b for b in acked if b not in seen]
        dups = sum(n - 1 for n in seen.values() if n > 1)
        return seen, missing, dups

    def close(self):
        self.c.close()
