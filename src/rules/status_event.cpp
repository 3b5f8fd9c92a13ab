#include "rules/status_event.hpp"

#include <cstdio>

#include "rules/targets_internal.hpp"

namespace sluice::rules {

const char* event_type_name(broker::ClientEvent e) {
  switch (e) {
    case broker::ClientEvent::Connect: return "connect";
    case broker::ClientEvent::Disconnect: return "disconnect";
    case broker::ClientEvent::TcpClean: return "tcpclean";
  }
  return "unknown";
}

std::string channel_id(uint64_t boot_nonce, uint64_t connection) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(boot_nonce),
                static_cast<unsigned long long>(connection));
  return buf;
}

std::string status_event_json(std::string_view instance, broker::ClientEvent e, std::string_view client_id,
                              std::string_view channel, std::string_view client_ip, int64_t time_ms, uint64_t seq) {
  std::string out = "{\"clientId\":" + json_string(client_id);
  out += ",\"channelId\":" + json_string(channel);
  out += ",\"clientIp\":" + json_string(client_ip);
  out += std::string(",\"eventType\":\"") + event_type_name(e) + "\"";
  out += ",\"time\":" + std::to_string(time_ms);
  out += ",\"instanceId\":" + json_string(instance);
  out += ",\"seq\":" + std::to_string(seq) + "}";
  return out;
}

}  // namespace sluice::rules
