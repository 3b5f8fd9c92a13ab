#include "mq/settings.hpp"

#include <boost/json.hpp>
#include <cctype>
#include <charconv>

namespace sluice::mq {

namespace json = boost::json;

namespace {
constexpr uint32_t kDay = 24 * 3600;
constexpr Setting n(const char* name, uint32_t InstanceSettings::*f, uint32_t lo, uint32_t hi, const char* help) {
  return Setting{name, f, nullptr, lo, hi, help};
}
constexpr Setting b(const char* name, bool InstanceSettings::*f, const char* help) {
  return Setting{name, nullptr, f, 0, 1, help};
}
constexpr Setting w(const char* name, bool InstanceSettings::*f, const char* off, const char* on, const char* help) {
  return Setting{name, nullptr, f, 0, 1, help, off, on};
}
using S = InstanceSettings;
constexpr Setting kSettings[] = {
    n("MaxPayload", &S::max_payload, 1, 256u << 20, "bytes of payload per message"),
    n("MaxTopicLength", &S::max_topic_length, 1, 65535, "characters of a topic or filter"),
    n("MaxClientIdLength", &S::max_client_id_length, 7, 65535, "characters of a client id"),
    n("MaxSubscriptionsPerClient", &S::max_subscriptions_per_client, 0, 65535, "subscriptions per client (0: any)"),
    n("OfflineMessageTtlSeconds", &S::offline_message_ttl_s, 1, 365 * kDay, "seconds an offline session is kept"),
    n("MaxOfflineMessages", &S::max_offline_messages, 0, 4000000000u, "messages queued across the instance (0: any)"),
    n("MaxConnections", &S::max_connections, 0, 100000000, "connections to the instance (0: any)"),
    n("MaxMessagesPerSecond", &S::max_messages_per_second, 0, 100000000, "publishes per second per client (0: any)"),
    n("MaxInstanceMessagesPerSecond", &S::max_instance_messages_per_second, 0, 100000000,
      "publishes per second across the instance's clients on a node (0: any)"),
    b("StrictClientId", &S::strict_client_id, "client ids must be <GroupId>@@@<DeviceId> with an existing group"),
    b("StrictTopic", &S::strict_topic, "a topic's parent topic must exist"),
    b("CloseOnDeniedPublish", &S::close_on_denied_publish, "MQTT 3.x: close on a denied PUBLISH (else drop it)"),
    b("RetainAvailable", &S::retain_available, "retained messages"),
    b("WillAvailable", &S::will_available, "will messages"),
    b("SharedSubscriptions", &S::shared_subscriptions, "shared subscriptions ($share/...)"),
    b("Qos2", &S::qos2, "QoS 2"),
    b("Qos2PersistentSessions", &S::qos2_persistent_sessions,
      "QoS 2 subscriptions of persistent sessions (off, as the cloud: granted QoS 1)"),
    b("WildcardSubscriptions", &S::wildcard_subscriptions, "wildcards in subscriptions"),
    b("Tracing", &S::tracing, "device traces"),
    b("MessageTrace", &S::message_trace, "message traces (publish and each delivery)"),
    w("TlsAuthMode", &S::mutual_tls, "one-way", "mutual",
      "one-way or mutual: mutual requires a device certificate from a CA registered on the instance"),
};

std::string json_key(const char* name) {
  std::string k(name);
  k[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(k[0])));
  return k;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

std::string range_message(const Setting& s) {
  return std::string(s.name) + " must be " + std::to_string(s.min) + " to " + std::to_string(s.max) + " (" + s.help +
         ").";
}
}  // namespace

std::span<const Setting> instance_settings() { return kSettings; }

std::string setting_text(const InstanceSettings& in, const Setting& st) {
  if (st.number) return std::to_string(in.*(st.number));
  if (st.on_word) return in.*(st.flag) ? st.on_word : st.off_word;
  return in.*(st.flag) ? "true" : "false";
}

const Setting* find_setting(std::string_view name) {
  for (const auto& s : kSettings)
    if (iequal(s.name, name)) return &s;
  return nullptr;
}

std::optional<std::string> set_setting(InstanceSettings& out, std::string_view name, std::string_view value) {
  const Setting* s = find_setting(name);
  if (!s) return "There is no instance setting \"" + std::string(name) + "\".";
  if (s->flag && s->on_word) {
    if (iequal(value, s->on_word)) out.*(s->flag) = true;
    else if (iequal(value, s->off_word)) out.*(s->flag) = false;
    else return std::string(s->name) + " must be " + s->off_word + " or " + s->on_word + ".";
    return std::nullopt;
  }
  if (s->flag) {
    if (value == "true" || value == "1") out.*(s->flag) = true;
    else if (value == "false" || value == "0") out.*(s->flag) = false;
    else return std::string(s->name) + " must be true or false.";
    return std::nullopt;
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size() || v < s->min || v > s->max) return range_message(*s);
  out.*(s->number) = static_cast<uint32_t>(v);
  return std::nullopt;
}

std::optional<std::string> check_settings_range(const InstanceSettings& in, std::string* field) {
  for (const auto& s : kSettings) {
    if (!s.number) continue;
    const uint32_t v = in.*(s.number);
    if (v < s.min || v > s.max) {
      if (field) *field = s.name;
      return range_message(s);
    }
  }
  return std::nullopt;
}

std::string settings_to_json(const InstanceSettings& in, const std::vector<std::string>& overrides) {
  json::object o;
  if (!overrides.empty()) {
    json::array a;
    for (const auto& n : overrides) a.emplace_back(n);
    o["overrides"] = std::move(a);
  }
  for (const auto& s : kSettings) {
    if (s.number) o[json_key(s.name)] = in.*(s.number);
    else if (s.on_word) o[json_key(s.name)] = in.*(s.flag) ? s.on_word : s.off_word;
    else o[json_key(s.name)] = in.*(s.flag);
  }
  return json::serialize(o);
}

InstanceSettings settings_from_json(std::string_view text) {
  InstanceSettings out;
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return out;
  const auto& o = v.as_object();
  for (const auto& s : kSettings) {
    const auto* p = o.if_contains(json_key(s.name));
    if (!p) continue;
    if (s.flag && p->is_bool()) out.*(s.flag) = p->as_bool();
    if (s.flag && s.on_word && p->is_string()) out.*(s.flag) = p->as_string() == s.on_word;
    if (s.number && p->is_int64()) out.*(s.number) = static_cast<uint32_t>(p->as_int64());
    if (s.number && p->is_uint64()) out.*(s.number) = static_cast<uint32_t>(p->as_uint64());
  }
  return out;
}

std::vector<std::string> overrides_from_json(std::string_view text) {
  std::vector<std::string> out;
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return out;
  const auto* a = v.as_object().if_contains("overrides");
  if (!a || !a->is_array()) return out;
  for (const auto& n : a->as_array())
    if (n.is_string() && find_setting(n.as_string())) out.emplace_back(n.as_string());
  return out;
}

}  // namespace sluice::mq
