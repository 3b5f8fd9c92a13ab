#include "app/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "broker/namespace.hpp"

#include "cluster/bus.hpp"
#include "cluster/directory.hpp"
#include "cluster/node.hpp"
#include "cluster/pg_leases.hpp"
#include "cluster/sessions.hpp"
#include "cluster/shared_failover.hpp"
#include "cluster/wills.hpp"

namespace sluice::app {

namespace {
void metric(std::string& out, const char* name, const char* type, const char* help, uint64_t v) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, v);
}

// One family with a sample per label set ({node="n1",kind="qos0"}).
void family(std::string& out, const char* name, const char* type, const char* help,
            std::initializer_list<std::pair<std::string, uint64_t>> samples) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  for (const auto& [labels, v] : samples) fmt::format_to(std::back_inserter(out), "{}{{{}}} {}\n", name, labels, v);
}

void cluster_metrics(std::string& out, const cluster::ClusterNode& n) {
  const std::string node = "node=\"" + n.options().node_name + "\"";
  const auto& bus = n.stats();
  const auto& dir = n.directory_stats();
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  family(out, "sluice_cluster_connected", "gauge", "1 while this node is connected to NATS.",
         {{node, n.connected() ? 1u : 0u}});
  family(out, "sluice_cluster_messages_sent_total", "counter",
         "Messages this node handed to the cluster: qos0 on core subjects, logged (QoS 1/2) to the stream.",
         {{node + ",kind=\"qos0\"", get(bus.sent_qos0)}, {node + ",kind=\"logged\"", get(bus.sent_logged)}});
  family(out, "sluice_cluster_messages_received_total", "counter", "Messages this node received from the cluster.",
         {{node + ",kind=\"qos0\"", get(bus.received_qos0)}, {node + ",kind=\"logged\"", get(bus.received_logged)}});
  family(out, "sluice_cluster_messages_dropped_total", "counter",
         "Received messages not routed: second copies of one message (overlapping filters), unknown instance, undecodable.",
         {{node + ",why=\"duplicate\"", get(bus.duplicates)},
          {node + ",why=\"unknown_namespace\"", get(bus.unknown_namespace)},
          {node + ",why=\"undecodable\"", get(bus.undecodable)}});
  family(out, "sluice_cluster_client_id_claims_total", "counter", "Client id claims this node made (one per CONNECT).",
         {{node, get(dir.claims)}});
  family(out, "sluice_cluster_client_id_claims_failed_total", "counter",
         "Claims JetStream did not store (retried until it does).", {{node, get(dir.failed_claims)}});
  family(out, "sluice_cluster_takeovers_total", "counter",
         "Sessions of this node ended because their client id connected on another node.", {{node, get(dir.evictions)}});
  const auto& wills = n.will_stats();
  family(out, "sluice_cluster_orphan_wills_total", "counter",
         "Wills of nodes that died which this node took over, then published, skipped (the client came back) or denied (its client's rights no longer allow it).",
         {{node + ",what=\"taken_over\"", get(wills.taken_over)},
          {node + ",what=\"published\"", get(wills.published)},
          {node + ",what=\"skipped\"", get(wills.skipped)},
          {node + ",what=\"denied\"", get(wills.denied)}});
}

// Per-instance series (issue 21). Cardinality is bounded: the kInstanceSeries
// instances with the most messages in (ties: by id) get a series each; the rest
// are summed into instance="_other", so every family's samples still add up to
// the server's figures and a scrape stays O(kInstanceSeries) lines however many
// instances exist. sluice_instances says how many there are.
constexpr size_t kInstanceSeries = 100;

struct InstanceFigures {
  std::string id;
  uint64_t connections = 0, in = 0, out = 0, denied = 0, queued = 0;
};

std::string label_value(std::string_view v) {
  std::string out;
  for (char ch : v) {
    if (ch == '\\' || ch == '"') out.push_back('\\');
    if (ch == '\n') { out += "\\n"; continue; }
    out.push_back(ch);
  }
  return out;
}

}  // namespace

void render_instance_metrics(std::string& out, broker::Broker& b) {
  std::vector<InstanceFigures> all;
  b.for_each([&all](broker::Namespace& ns) {
    const auto mc = ns.message_counts();
    all.push_back({ns.id(), static_cast<uint64_t>(std::max<int64_t>(0, ns.online_count())), mc.in, mc.out, mc.denied,
                   static_cast<uint64_t>(std::max<int64_t>(0, ns.queue_budget()->queued.load(std::memory_order_relaxed)))});
  });
  std::sort(all.begin(), all.end(), [](const InstanceFigures& a, const InstanceFigures& c) {
    return a.in != c.in ? a.in > c.in : a.id < c.id;
  });
  metric(out, "sluice_instances", "gauge", "Instances (broker namespaces) on this server.", all.size());
  if (all.size() > kInstanceSeries) {
    InstanceFigures other;
    other.id = "_other";
    for (size_t i = kInstanceSeries; i < all.size(); ++i) {
      other.connections += all[i].connections;
      other.in += all[i].in;
      other.out += all[i].out;
      other.denied += all[i].denied;
      other.queued += all[i].queued;
    }
    all.resize(kInstanceSeries);
    all.push_back(std::move(other));
  }
  auto fam = [&](const char* name, const char* type, const char* help, uint64_t InstanceFigures::*f) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const auto& i : all)
      fmt::format_to(std::back_inserter(out), "{}{{instance=\"{}\"}} {}\n", name, label_value(i.id), i.*f);
  };
  const std::string bound = " The " + std::to_string(kInstanceSeries) +
                            " busiest instances by messages in; the others summed as instance=\"_other\".";
  fam("sluice_instance_connections", "gauge", (std::string("Clients connected to the instance now.") + bound).c_str(),
      &InstanceFigures::connections);
  fam("sluice_instance_messages_in_total", "counter",
      (std::string("PUBLISH packets accepted into the instance.") + bound).c_str(), &InstanceFigures::in);
  fam("sluice_instance_messages_out_total", "counter",
      (std::string("Deliveries routed to the instance's subscribers.") + bound).c_str(), &InstanceFigures::out);
  fam("sluice_instance_denied_total", "counter",
      (std::string("PUBLISH packets and subscriptions the instance's rules or the client's rights refused.") + bound)
          .c_str(),
      &InstanceFigures::denied);
  fam("sluice_instance_queued_messages", "gauge",
      (std::string("Messages queued for the instance's offline or slow sessions.") + bound).c_str(),
      &InstanceFigures::queued);
}


// Persistent sessions across nodes (issue 17, docs/cluster.md "Persistent
// sessions"): what this node holds, hands over and reads back, and its writes
// to SLUICE_SESSIONS (a fenced write means another node wrote the entry since:
// a stale holder; outside a node's death or a takeover race it should stay 0).
void cluster_session_metrics(std::string& out, const cluster::ClusterNode& n) {
  const std::string node = "node=\"" + n.options().node_name + "\"";
  const auto& st = n.session_stats();
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  family(out, "sluice_cluster_sessions_held", "gauge",
         "Persistent sessions this node holds (online or offline) in SLUICE_SESSIONS.", {{node, get(st.held)}});
  family(out, "sluice_cluster_sessions_total", "counter",
         "Persistent sessions resumed here from another node's entry, handed over to another node, or ended at "
         "their expiry.",
         {{node + ",what=\"resumed\"", get(st.resumed)},
          {node + ",what=\"handed_over\"", get(st.handed_over)},
          {node + ",what=\"expired\"", get(st.expired)}});
  family(out, "sluice_cluster_sessions_replayed_messages_total", "counter",
         "QoS 1/2 messages read back from the log for sessions resumed on this node.", {{node, get(st.replayed)}});
  family(out, "sluice_cluster_session_writes_total", "counter",
         "Compare-and-set writes of session entries: all, lost (the revision moved), fenced (this node stopped "
         "writing a session another node wrote).",
         {{node + ",result=\"all\"", get(st.writes)},
          {node + ",result=\"lost\"", get(st.failed_writes)},
          {node + ",result=\"fenced\"", get(st.fenced)}});
  // A dead member node's share of shared subscriptions (docs/cluster.md):
  // recovered messages are the re-decided ones delivered here, an upper bound
  // of the duplicates a death cost (the dead node may have sent some).
  const auto& fo = n.failover_stats();
  family(out, "sluice_cluster_shared_failover_total", "counter",
         "Shared subscriptions after a member node's death: member nodes this node stopped counting (deaths), "
         "messages of their share re-decided and delivered here (recovered), deaths whose routed frontier was "
         "never heard (unknown: nothing recovered).",
         {{node + ",what=\"deaths\"", get(fo.deaths)},
          {node + ",what=\"recovered\"", get(fo.recovered)},
          {node + ",what=\"unknown\"", get(fo.unknown)}});
}

// Node liveness (issue 17, docs/cluster.md "Node liveness and the split
// brain"): whether this node serves, and with --postgres its lease's epoch and
// the other nodes' leases as its last read of cluster_nodes found them.
void cluster_lease_metrics(std::string& out, const cluster::ClusterNode& n) {
  const std::string node = "node=\"" + n.options().node_name + "\"";
  family(out, "sluice_cluster_serving", "gauge",
         "1 while this node serves its clients; 0 while it is cut off from NATS or PostgreSQL (CONNECTs get 0x88).",
         {{node, n.serving() ? 1u : 0u}});
  const cluster::PgLeases* pg = n.pg_leases();
  if (!pg) return;
  family(out, "sluice_cluster_lease_epoch", "gauge",
         "This node's epoch in PostgreSQL's cluster_nodes (one more at every rejoin).",
         {{node, static_cast<uint64_t>(std::max<int64_t>(0, pg->epoch()))}});
  fmt::format_to(std::back_inserter(out),
                 "# HELP sluice_cluster_peer_lease 1 while another node's lease in PostgreSQL runs, 0 once it ran "
                 "out (that node is taken for dead), as this node's last read found.\n"
                 "# TYPE sluice_cluster_peer_lease gauge\n");
  for (const auto& peer : pg->peers())
    fmt::format_to(std::back_inserter(out), "sluice_cluster_peer_lease{{{},peer=\"{}\"}} {}\n", node, peer.first,
                   peer.second ? 1 : 0);
}

std::string render_metrics(broker::Broker& b, const net::Server& s, const cluster::ClusterNode* node) {
  const auto t = b.totals();
  std::string out;
  metric(out, "sluice_connections", "gauge", "Client connections open now.", s.connections());
  metric(out, "sluice_sessions", "gauge", "Sessions, connected or kept for offline clients.", t.sessions);
  metric(out, "sluice_subscriptions", "gauge", "Subscriptions held.", t.subscriptions);
  metric(out, "sluice_retained_messages", "gauge", "Retained messages stored.", t.retained);
  metric(out, "sluice_messages_in_total", "counter", "PUBLISH packets accepted from clients.", t.messages_in);
  metric(out, "sluice_messages_out_total", "counter", "PUBLISH packets sent to clients.", t.messages_out);
  metric(out, "sluice_bytes_in_total", "counter", "Bytes read from client sockets.", t.bytes_in);
  metric(out, "sluice_bytes_out_total", "counter", "Bytes written to client sockets.", t.bytes_out);
  metric(out, "sluice_dropped_total", "counter",
         "Messages dropped: queue overflow, expiry, slow consumers, oversize.", t.dropped);
  metric(out, "sluice_queued_messages", "gauge", "Messages queued for offline or slow sessions.",
         static_cast<uint64_t>(std::max<int64_t>(0, t.queued)));
  metric(out, "sluice_queued_bytes", "gauge", "Memory held by session queues (upper bound).",
         static_cast<uint64_t>(std::max<int64_t>(0, t.queued_bytes)));
  metric(out, "sluice_queued_bytes_limit", "gauge", "Server-wide bound on sluice_queued_bytes (0 = none).",
         b.queue_memory_limit());
  metric(out, "sluice_queue_refused_total", "counter",
         "Messages not queued for a session because the server's queue memory was full.", t.queue_refused);
  metric(out, "sluice_connects_total", "counter", "Successful CONNECTs.", t.connects);
  metric(out, "sluice_protocol_errors_total", "counter", "Connections closed for a protocol error.",
         t.protocol_errors);
  metric(out, "sluice_sends_batched_total", "counter",
         "Socket writes that went out with other connections' in one io_uring submission ([mqtt] io_uring).",
         t.batched_sends);
  render_instance_metrics(out, b);
  if (node) cluster_metrics(out, *node);
  if (node) cluster_session_metrics(out, *node);
  if (node) cluster_lease_metrics(out, *node);
  return out;
}

}  // namespace sluice::app
