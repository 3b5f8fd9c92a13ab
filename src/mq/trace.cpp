#include "mq/trace.hpp"

#include <chrono>

#include "common/log.hpp"
#include "mq/audit.hpp"

namespace sluice::mq {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string trace_msg_id(const broker::Message& m) {
  // The message object is shared by every delivery of one publish: its address
  // plus the publisher's session serial identifies it while traces are read.
  return fmt::format("{:016X}{:08X}", reinterpret_cast<uintptr_t>(&m), static_cast<uint32_t>(m.origin));
}

template <class D>
void TraceStore::trim(D& d, size_t max, int64_t now) {
  while (d.size() > max) d.pop_front();
  while (!d.empty() && d.front().time_ms < now - limits_.max_age_ms) d.pop_front();
}

void TraceStore::device(std::string_view instance_id, DeviceTrace t) {
  if (!t.time_ms) t.time_ms = wall_ms();
  std::lock_guard lk(mu_);
  auto& p = by_instance_[std::string(instance_id)];
  const int64_t now = t.time_ms;
  p.devices.push_back(std::move(t));
  trim(p.devices, limits_.max_device_events, now);
}

void TraceStore::message(std::string_view instance_id, MessageTrace t) {
  if (!t.time_ms) t.time_ms = wall_ms();
  std::lock_guard lk(mu_);
  auto& p = by_instance_[std::string(instance_id)];
  const int64_t now = t.time_ms;
  p.messages.push_back(std::move(t));
  trim(p.messages, limits_.max_message_events, now);
}

std::vector<DeviceTrace> TraceStore::query_device(std::string_view instance_id, std::string_view client_id,
                                                  int64_t begin_ms, int64_t end_ms, size_t max) {
  std::vector<DeviceTrace> out;
  std::lock_guard lk(mu_);
  auto it = by_instance_.find(std::string(instance_id));
  if (it == by_instance_.end()) return out;
  trim(it->second.devices, limits_.max_device_events, wall_ms());
  for (const auto& t : it->second.devices) {
    if (t.time_ms < begin_ms || t.time_ms > end_ms) continue;
    if (!client_id.empty() && t.client_id != client_id) continue;
    out.push_back(t);
    if (out.size() >= max) break;
  }
  return out;
}

std::vector<MessageTrace> TraceStore::query_messages(std::string_view instance_id, std::string_view msg_id,
                                                     std::string_view client_id, std::string_view action,
                                                     int64_t begin_ms, int64_t end_ms, size_t max) {
  std::vector<MessageTrace> out;
  std::lock_guard lk(mu_);
  auto it = by_instance_.find(std::string(instance_id));
  if (it == by_instance_.end()) return out;
  trim(it->second.messages, limits_.max_message_events, wall_ms());
  for (const auto& t : it->second.messages) {
    if (t.time_ms < begin_ms || t.time_ms > end_ms) continue;
    if (!msg_id.empty() && t.msg_id != msg_id) continue;
    if (!client_id.empty() && t.client_id != client_id) continue;
    if (!action.empty() && t.action != action) continue;
    out.push_back(t);
    if (out.size() >= max) break;
  }
  return out;
}

void TraceStore::drop_instance(std::string_view instance_id) {
  std::lock_guard lk(mu_);
  by_instance_.erase(std::string(instance_id));
}

namespace {
class StoreTracer final : public broker::MessageTracer {
 public:
  StoreTracer(TraceStore& s, std::string id) : store_(s), id_(std::move(id)) {}
  void published(const broker::Message& m, std::string_view client_id) override {
    store_.message(id_, MessageTrace{0, trace_msg_id(m), m.topic, std::string(client_id), "pub", m.qos});
  }
  void delivered(const broker::Message& m, std::string_view client_id, uint8_t qos) override {
    store_.message(id_, MessageTrace{0, trace_msg_id(m), m.topic, std::string(client_id), "deliver", qos});
  }

 private:
  TraceStore& store_;
  std::string id_;
};
}  // namespace

std::shared_ptr<broker::MessageTracer> TraceStore::tracer_for(std::string instance_id) {
  return std::make_shared<StoreTracer>(*this, std::move(instance_id));
}

void LogAuditSink::record(const AuditEvent& e) {
  log::warn("audit: {} account={} instance={} principal={} client={} ip={} resource={} reason={}", e.event,
            e.account_id, e.instance_id, e.principal, e.client_id, e.source_ip, e.resource, e.reason);
}

}  // namespace sluice::mq
