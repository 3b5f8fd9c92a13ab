#include "app/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace sluice::app {

namespace {
void metric(std::string& out, const char* name, const char* type, const char* help, uint64_t v) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, v);
}
}  // namespace

std::string render_metrics(broker::Broker& b, const net::Server& s) {
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
  return out;
}

}  // namespace sluice::app
