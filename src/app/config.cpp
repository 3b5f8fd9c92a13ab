#include "app/config.hpp"

#include <toml++/toml.h>

#include "api/console_proxy.hpp"
#include "store/pg_db.hpp"

#include <cstdlib>
#include <functional>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace sluice::app {

namespace {

// One table of settings: each key knows how to read itself from TOML and from
// an environment string, so the file and the environment cannot drift apart.
struct Setting {
  const char* section;  // "" = top level
  const char* key;
  std::function<void(const toml::node&)> from_toml;
  std::function<void(const std::string&)> from_env;
};

// A value outside the field's type is an error, not a wrap-around: -1 for an
// unsigned limit would otherwise silently become 4 billion or 2^64 - 1.
template <class T>
T checked(long long v, const char* what) {
  if (!std::in_range<T>(v))
    throw std::runtime_error(std::string(what) + " must be between " + std::to_string(std::numeric_limits<T>::min()) +
                             " and " + std::to_string(std::numeric_limits<T>::max()) + ", not " + std::to_string(v));
  return static_cast<T>(v);
}

template <class T>
T parse_number(const std::string& s, const char* what) {
  long long v = 0;
  try {
    size_t pos = 0;
    v = std::stoll(s, &pos);
    if (pos != s.size()) throw std::invalid_argument("trailing");
  } catch (...) {
    throw std::runtime_error(std::string("invalid number for ") + what + ": " + s);
  }
  return checked<T>(v, what);
}

bool parse_bool(const std::string& s, const char* what) {
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  throw std::runtime_error(std::string("invalid boolean for ") + what + ": " + s);
}

template <class T>
Setting num(const char* sec, const char* key, T& field) {
  return {sec, key,
          [&field, key](const toml::node& n) {
            auto v = n.value<int64_t>();
            if (!v) throw std::runtime_error(std::string(key) + " must be an integer");
            field = checked<T>(*v, key);
          },
          [&field, key](const std::string& s) { field = parse_number<T>(s, key); }};
}

Setting flag(const char* sec, const char* key, bool& field) {
  return {sec, key,
          [&field, key](const toml::node& n) {
            auto v = n.value<bool>();
            if (!v) throw std::runtime_error(std::string(key) + " must be true or false");
            field = *v;
          },
          [&field, key](const std::string& s) { field = parse_bool(s, key); }};
}

Setting str(const char* sec, const char* key, std::string& field) {
  return {sec, key,
          [&field, key](const toml::node& n) {
            auto v = n.value<std::string>();
            if (!v) throw std::runtime_error(std::string(key) + " must be a string");
            field = *v;
          },
          [&field](const std::string& s) { field = s; }};
}

// A list of strings: a TOML array of strings, or one string (and the
// environment) with the items separated by commas. `check(key, items)` throws
// for an item it refuses, naming it.
using ListCheck = void (*)(const char* key, const std::vector<std::string>& items);
Setting string_list(const char* sec, const char* key, std::vector<std::string>& field, ListCheck check) {
  auto set = [&field, key, check](std::vector<std::string> items) {
    check(key, items);
    field = std::move(items);
  };
  return {sec, key,
          [set, key](const toml::node& n) {
            if (auto v = n.value<std::string>()) return set(api::split_list(*v));
            const toml::array* a = n.as_array();
            if (!a) throw std::runtime_error(std::string(key) + " must be an array of strings");
            std::vector<std::string> items;
            for (const auto& e : *a) {
              auto v = e.value<std::string>();
              if (!v) throw std::runtime_error(std::string(key) + " must be an array of strings");
              items.push_back(*v);
            }
            set(std::move(items));
          },
          [set](const std::string& s) { set(api::split_list(s)); }};
}

// IP addresses or CIDR blocks.
Setting ip_list(const char* sec, const char* key, std::vector<std::string>& field) {
  return string_list(sec, key, field, [](const char* k, const std::vector<std::string>& items) {
    api::TrustedProxies check;
    if (auto bad = api::TrustedProxies::parse(items, check))
      throw std::runtime_error(std::string(k) + ": \"" + *bad + "\" is not an IP address or CIDR block");
  });
}

// NATS URLs.
Setting url_list(const char* sec, const char* key, std::vector<std::string>& field) {
  return string_list(sec, key, field, [](const char* k, const std::vector<std::string>& items) {
    for (const auto& u : items)
      if (u.rfind("nats://", 0) != 0 && u.rfind("tls://", 0) != 0)
        throw std::runtime_error(std::string(k) + ": \"" + u + "\" is not a nats:// or tls:// URL");
  });
}

std::vector<Setting> settings(Config& c) {
  auto& m = c.mqtt;
  auto& b = c.broker;
  return {
      str("", "data_dir", c.data_dir),
      str("", "console_dir", c.console_dir),
      flag("", "allow_anonymous", c.allow_anonymous),
      str("", "fsync", c.fsync),
      num("", "fsync_window_ms", c.fsync_window_ms),
      str("log", "level", c.log_level),
      flag("log", "json", c.log_json),
      str("mqtt", "host", m.host),
      num("mqtt", "port", m.mqtt_port),
      num("mqtt", "tls_port", m.mqtts_port),
      num("mqtt", "ws_port", m.ws_port),
      num("mqtt", "wss_port", m.wss_port),
      num("mqtt", "threads", m.threads),
      str("mqtt", "tls_cert", m.tls_cert),
      str("mqtt", "tls_key", m.tls_key),
      str("mqtt", "tls_ca", m.tls_ca),
      flag("mqtt", "tls_require_client_cert", m.tls_require_client_cert),
      str("mqtt", "ws_path", m.ws_path),
      num("mqtt", "connect_timeout_ms", m.connect_timeout_ms),
      num("mqtt", "out_high_water", m.out_high_water),
      num("mqtt", "max_connections", m.max_connections),
      num("mqtt", "connect_rate_per_source", m.connect_rate_per_source),
      num("mqtt", "connect_burst_per_source", m.connect_burst_per_source),
      num("mqtt", "max_keep_alive", m.max_keep_alive),
      num("mqtt", "coalesce_us", m.coalesce_us),
      flag("mqtt", "io_uring", m.io_uring),
      num("mqtt", "max_pending_connects_per_source", m.max_pending_connects_per_source),
      str("http", "host", c.http.host),
      num("http", "port", c.http.port),
      num("http", "threads", c.http.threads),
      num("http", "max_body", c.http.max_body),
      num("http", "max_connections", c.http.max_connections),
      num("http", "max_connections_per_source", c.http.max_connections_per_source),
      num("http", "idle_timeout_s", c.http.idle_timeout_seconds),
      num("http", "header_timeout_s", c.http.header_timeout_seconds),
      num("http", "request_timeout_s", c.http.timeout_seconds),
      num("http", "refused_audit_window_s", c.refused_audit_window_s),
      num("broker", "max_packet_size", b.max_packet_size),
      num("broker", "receive_maximum", b.receive_maximum),
      num("broker", "max_inflight", b.max_inflight),
      num("broker", "max_queued_messages", b.max_queued_messages),
      num("broker", "max_queued_bytes", b.max_queued_bytes),
      num("broker", "max_queued_bytes_total", c.max_queued_bytes_total),
      num("broker", "topic_alias_maximum", b.topic_alias_maximum),
      num("broker", "max_session_expiry", b.max_session_expiry),
      num("broker", "max_subscriptions_per_client", b.max_subscriptions_per_client),
      num("broker", "maximum_qos", b.maximum_qos),
      flag("broker", "retain_available", b.retain_available),
      flag("broker", "wildcard_subscriptions", b.wildcard_subscriptions),
      flag("broker", "shared_subscriptions", b.shared_subscriptions),
      flag("broker", "subscription_identifiers", b.subscription_identifiers),
      flag("broker", "queue_qos0_offline", b.queue_qos0_offline),
      str("mq", "region", c.mq.region),
      str("mq", "default_instance", c.mq.default_instance),
      str("mq", "endpoint_host", c.mq.endpoint_host),
      flag("mq", "strict_client_id", c.mq.strict_client_id),
      flag("mq", "strict_topic", c.mq.strict_topic),
      flag("mq", "close_on_denied_publish", c.mq.close_on_denied_publish),
      flag("mq", "message_trace", c.mq.message_trace),
      num("mq", "token_notice_lead_s", c.mq.token_notice_lead_s),
      num("mq", "token_min_ttl_s", c.mq.token_min_ttl_s),
      num("mq", "trace_max_age_s", c.mq.trace_max_age_s),
      num("mq", "trace_max_device_events", c.mq.trace_max_device_events),
      num("mq", "trace_max_message_events", c.mq.trace_max_message_events),
      num("mq", "auth_fail_burst", c.mq.auth_fail_burst),
      num("mq", "auth_fail_per_second", c.mq.auth_fail_per_second),
      num("iam", "sts_min_duration_s", c.iam.sts_min_duration_s),
      num("console", "idle_timeout_s", c.console.idle_timeout_s),
      num("console", "absolute_timeout_s", c.console.absolute_timeout_s),
      num("console", "login_failures_per_minute", c.console.login_failures_per_minute),
      num("console", "login_failures_per_name_per_minute", c.console.login_failures_per_name_per_minute),
      ip_list("console", "trusted_proxies", c.console.trusted_proxies),
      ip_list("rules", "allowed_target_networks", c.rules.allowed_target_networks),
      num("rules", "hold_ms", c.rules.hold_ms),
      url_list("cluster", "nats", c.cluster.nats),
      str("cluster", "node_name", c.cluster.node_name),
      str("store", "postgres", c.store.postgres),
      num("store", "unavailable_grace_s", c.store.unavailable_grace_s),
      num("store", "backstop_s", c.store.backstop_s),
      num("cluster", "replicas", c.cluster.replicas),
      num("cluster", "message_max_age_s", c.cluster.message_max_age_s),
  };
}

std::string env_name(const Setting& s) {
  std::string n = "SLUICE_";
  if (*s.section) {
    n += s.section;
    n += "_";
  }
  n += s.key;
  for (auto& ch : n) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return n;
}

}  // namespace

void load_toml(const std::string& path, Config& cfg) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << "config " << path << ":" << e.source().begin.line << ": " << e.description();
    throw std::runtime_error(os.str());
  }
  auto all = settings(cfg);
  // Reject unknown keys: a typo must not silently fall back to a default.
  for (auto& [k, v] : root) {
    if (v.is_table()) {
      for (auto& [k2, v2] : *v.as_table()) {
        bool known = false;
        for (auto& s : all) known |= (k.str() == s.section && k2.str() == s.key);
        if (!known) throw std::runtime_error("config " + path + ": unknown key [" + std::string(k.str()) + "] " + std::string(k2.str()));
      }
    } else {
      bool known = false;
      for (auto& s : all) known |= (!*s.section && k.str() == s.key);
      if (!known) throw std::runtime_error("config " + path + ": unknown key " + std::string(k.str()));
    }
  }
  for (auto& s : all) {
    const toml::node* n = *s.section ? root[s.section][s.key].node() : root[s.key].node();
    if (!n) continue;
    try {
      s.from_toml(*n);
    } catch (const std::exception& e) {
      throw std::runtime_error("config " + path + ":" + std::to_string(n->source().begin.line) + ": " + e.what());
    }
  }
}

void load_env(Config& cfg) {
  // The short name the docs use; SLUICE_STORE_POSTGRES (the table's) wins.
  if (const char* v = std::getenv("SLUICE_POSTGRES")) cfg.store.postgres = v;
  for (auto& s : settings(cfg)) {
    const std::string name = env_name(s);
    if (const char* v = std::getenv(name.c_str())) {
      try {
        s.from_env(v);
      } catch (const std::exception& e) {
        throw std::runtime_error(name + ": " + e.what());
      }
    }
  }
}

void set_option(Config& cfg, std::string_view section, std::string_view key, const std::string& text) {
  for (auto& s : settings(cfg))
    if (section == s.section && key == s.key) return s.from_env(text);
  throw std::runtime_error("no setting [" + std::string(section) + "] " + std::string(key));
}

std::string to_toml(const Config& c) {
  std::ostringstream os;
  os << "data_dir = \"" << c.data_dir << "\"\nconsole_dir = \"" << c.console_dir << "\"\nallow_anonymous = "
     << (c.allow_anonymous ? "true" : "false")
     << "\nfsync = \"" << c.fsync << "\"\nfsync_window_ms = " << c.fsync_window_ms
     << "\n\n[log]\nlevel = \"" << c.log_level << "\"\njson = " << (c.log_json ? "true" : "false")
     << "\n\n[mqtt]\nhost = \"" << c.mqtt.host << "\"\nport = " << c.mqtt.mqtt_port
     << "\ntls_port = " << c.mqtt.mqtts_port << "\nws_port = " << c.mqtt.ws_port
     << "\nwss_port = " << c.mqtt.wss_port << "\nthreads = " << c.mqtt.threads
     << "\nconnect_timeout_ms = " << c.mqtt.connect_timeout_ms << "\nmax_connections = " << c.mqtt.max_connections
     << "\nmax_pending_connects_per_source = " << c.mqtt.max_pending_connects_per_source
     << "\nconnect_rate_per_source = " << c.mqtt.connect_rate_per_source
     << "\nconnect_burst_per_source = " << c.mqtt.connect_burst_per_source
     << "\ncoalesce_us = " << c.mqtt.coalesce_us << "\nio_uring = " << (c.mqtt.io_uring ? "true" : "false")
     << "\n\n[broker]\nmax_queued_messages = " << c.broker.max_queued_messages
     << "\nmax_queued_bytes = " << c.broker.max_queued_bytes
     << "\nmax_queued_bytes_total = " << c.max_queued_bytes_total
     << "\n\n[http]\nhost = \"" << c.http.host << "\"\nport = " << c.http.port
     << "\nmax_connections = " << c.http.max_connections
     << "\nmax_connections_per_source = " << c.http.max_connections_per_source
     << "\nidle_timeout_s = " << c.http.idle_timeout_seconds << "\nheader_timeout_s = " << c.http.header_timeout_seconds
     << "\nrequest_timeout_s = " << c.http.timeout_seconds << "\nrefused_audit_window_s = " << c.refused_audit_window_s
     << "\n\n[mq]\nregion = \"" << c.mq.region << "\"\ndefault_instance = \"" << c.mq.default_instance
     << "\"\nendpoint_host = \"" << c.mq.endpoint_host
     << "\"\nstrict_client_id = " << (c.mq.strict_client_id ? "true" : "false")
     << "\nstrict_topic = " << (c.mq.strict_topic ? "true" : "false")
     << "\ntoken_notice_lead_s = " << c.mq.token_notice_lead_s << "\ntrace_max_age_s = " << c.mq.trace_max_age_s
     << "\n\n[iam]\nsts_min_duration_s = " << c.iam.sts_min_duration_s
     << "\n\n[console]\nidle_timeout_s = " << c.console.idle_timeout_s
     << "\nabsolute_timeout_s = " << c.console.absolute_timeout_s
     << "\nlogin_failures_per_minute = " << c.console.login_failures_per_minute
     << "\nlogin_failures_per_name_per_minute = " << c.console.login_failures_per_name_per_minute
     << "\ntrusted_proxies = [";
  for (size_t i = 0; i < c.console.trusted_proxies.size(); ++i)
    os << (i ? ", " : "") << '"' << c.console.trusted_proxies[i] << '"';
  os << "]\n\n[rules]\nallowed_target_networks = [";
  for (size_t i = 0; i < c.rules.allowed_target_networks.size(); ++i)
    os << (i ? ", " : "") << '"' << c.rules.allowed_target_networks[i] << '"';
  os << "]\nhold_ms = " << c.rules.hold_ms << "\n\n[cluster]\nnats = [";
  for (size_t i = 0; i < c.cluster.nats.size(); ++i) os << (i ? ", " : "") << '"' << c.cluster.nats[i] << '"';
  os << "]\nnode_name = \"" << c.cluster.node_name << "\"\nreplicas = " << c.cluster.replicas
     << "\nmessage_max_age_s = " << c.cluster.message_max_age_s
     << "\n\n[store]\npostgres = \"" << (c.store.postgres.empty() ? std::string() : store::PgDb::redact(c.store.postgres))
     << "\"\nunavailable_grace_s = " << c.store.unavailable_grace_s << "\nbackstop_s = " << c.store.backstop_s << "\n";
  return os.str();
}

}  // namespace sluice::app
