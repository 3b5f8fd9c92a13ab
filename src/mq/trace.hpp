#pragma once
// Device and message traces (ApsaraMQ's QueryMqttTrace*), kept in memory per
// instance, bounded in age and count (both configurable), and with persist_to()
// also on disk (mq/trace_disk.hpp) so they survive a restart. Thread-safe.
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/namespace.hpp"

namespace sluice::mq {

struct TraceLimits {
  int64_t max_age_ms = 3LL * 24 * 3600 * 1000;  // 3 days, as the cloud keeps traces
  size_t max_device_events = 100000;            // per instance
  size_t max_message_events = 200000;           // per instance
};

struct DeviceTrace {
  int64_t time_ms = 0;
  std::string client_id;
  std::string action;      // connect | disconnect | auth_failed | topic_auth_failed | client_id_conflict
  std::string reason;      // why (disconnect reason, the denial's deciding rule)
  std::string channel_id;  // one per connection attempt
  std::string remote_ip;
};

struct MessageTrace {
  int64_t time_ms = 0;
  std::string msg_id;
  std::string topic;
  std::string client_id;
  std::string action;  // pub | deliver
  uint8_t qos = 0;
};

class TraceDisk;

class TraceStore {
 public:
  explicit TraceStore(TraceLimits limits = {});
  ~TraceStore();
  // From now on every trace is also written to `disk`, after the traces it holds
  // (newer than the retention) are read back into memory. Call once, before the
  // broker takes traffic.
  void persist_to(std::unique_ptr<TraceDisk> disk);
  TraceDisk* disk() { return disk_.get(); }
  const TraceLimits& limits() const { return limits_; }

  void device(std::string_view instance_id, DeviceTrace t);
  void message(std::string_view instance_id, MessageTrace t);

  // Newest last; [begin_ms, end_ms] inclusive; empty client_id / msg_id = any.
  std::vector<DeviceTrace> query_device(std::string_view instance_id, std::string_view client_id, int64_t begin_ms,
                                        int64_t end_ms, size_t max = 1000);
  std::vector<MessageTrace> query_messages(std::string_view instance_id, std::string_view msg_id,
                                           std::string_view client_id, std::string_view action, int64_t begin_ms,
                                           int64_t end_ms, size_t max = 1000);
  void drop_instance(std::string_view instance_id);

  // A broker::MessageTracer that records into this store for one instance.
  std::shared_ptr<broker::MessageTracer> tracer_for(std::string instance_id);

 private:
  struct PerInstance {
    std::deque<DeviceTrace> devices;
    std::deque<MessageTrace> messages;
  };
  template <class D>
  void trim(D& d, size_t max, int64_t now);
  TraceLimits limits_;
  std::unique_ptr<TraceDisk> disk_;
  std::mutex mu_;
  std::unordered_map<std::string, PerInstance> by_instance_;
};

// A message id for traces: stable for one message object while it lives.
std::string trace_msg_id(const broker::Message& m);
int64_t wall_ms();

}  // namespace sluice::mq
