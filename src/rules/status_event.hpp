#pragma once
// Client status events in the cloud's shape (docs/rules.md cites the cloud's
// documentation): one JSON object per event,
//   {"clientId":..., "channelId":..., "clientIp":"ip:port", "eventType":"connect"|"disconnect"|"tcpclean",
//    "time": Unix ms, "instanceId":..., "seq": n}
// `seq` is Sluice's own: it increases with every event of the server (so per
// client), also across restarts, so a consumer can tell a stale disconnect from
// a newer connect.
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/observer.hpp"

namespace sluice::rules {

const char* event_type_name(broker::ClientEvent e);

// The channel id of a connection: 32 hex digits, unique across restarts.
std::string channel_id(uint64_t boot_nonce, uint64_t connection);

std::string status_event_json(std::string_view instance, broker::ClientEvent e, std::string_view client_id,
                              std::string_view channel, std::string_view client_ip, int64_t time_ms, uint64_t seq);

}  // namespace sluice::rules
