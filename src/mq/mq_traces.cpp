// Device and message traces of an instance (kept in memory by TraceStore).
#include "mq/internal.hpp"

namespace sluice::mq {

using namespace detail;

Result<std::vector<DeviceTrace>> MqService::QueryMqttTraceDevice(std::string_view account_id,
                                                                 std::string_view instance_id,
                                                                 std::string_view client_id, int64_t begin_ms,
                                                                 int64_t end_ms) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  return device_traces(instance_id, client_id, begin_ms, end_ms);
}

Result<std::vector<MessageTrace>> MqService::QueryMqttTraceMessageOfClient(std::string_view account_id,
                                                                           std::string_view instance_id,
                                                                           std::string_view client_id,
                                                                           int64_t begin_ms, int64_t end_ms) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  if (client_id.empty()) return bad("ClientId", "The client id is required.");
  return message_traces(instance_id, {}, client_id, {}, begin_ms, end_ms);
}

Result<std::vector<MessageTrace>> MqService::QueryMqttTraceMessagePublish(std::string_view account_id,
                                                                          std::string_view instance_id,
                                                                          std::string_view msg_id, int64_t begin_ms,
                                                                          int64_t end_ms) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  return message_traces(instance_id, msg_id, {}, "pub", begin_ms, end_ms);
}

Result<std::vector<MessageTrace>> MqService::QueryMqttTraceMessageSubscribe(std::string_view account_id,
                                                                            std::string_view instance_id,
                                                                            std::string_view msg_id,
                                                                            std::string_view client_id,
                                                                            int64_t begin_ms, int64_t end_ms) {
  if (auto s = owned_instance(account_id, instance_id); !s) return s.error();
  return message_traces(instance_id, msg_id, client_id, "deliver", begin_ms, end_ms);
}

}  // namespace sluice::mq
