// Connection: the MQTT protocol on top of the byte stream.
#include <openssl/rand.h>

#include <algorithm>

#include "broker/clock.hpp"
#include "broker/message_pool.hpp"
#include "broker/stats.hpp"
#include "common/log.hpp"
#include "mqtt/topic.hpp"
#include "net/connection.hpp"
#include "net/server.hpp"
#include "net/socket.hpp"
#include "net/tls.hpp"
#include "net/websocket.hpp"

namespace sluice::net {

using broker::WorkerStats;
using mqtt::Reason;
using mqtt::Version;

namespace {

std::string random_client_id() {
  unsigned char b[12];
  RAND_bytes(b, sizeof b);
  static const char* hex = "0123456789abcdef";
  std::string s = "auto-";
  for (unsigned char c : b) {
    s += hex[c >> 4];
    s += hex[c & 15];
  }
  return s;
}

bool has_wildcard(std::string_view f) { return f.find_first_of("+#") != std::string_view::npos; }

// Copies the MQTT 5 properties a message carries to its subscribers.
// What a decoded packet owes its sender, for coalescing (net/coalesce.hpp):
// QoS 0 PUBLISHes nothing; QoS 1/2 PUBLISHes and acknowledgements a reply (or
// a freed window) that this iteration queues; the rest needs the loop now.
Owes owed_by(const mqtt::Packet& pkt) {
  using mqtt::index_of;
  if (const auto* p = std::get_if<mqtt::Publish>(&pkt)) return p->qos == 0 ? Owes::Nothing : Owes::Reply;
  return pkt.index() == index_of<mqtt::Ack> ? Owes::Reply : Owes::Attention;
}

void copy_message_props(const mqtt::Properties& p, broker::Message& m) {
  m.payload_format = p.payload_format_indicator;
  if (p.content_type) m.content_type = std::string(*p.content_type);
  if (p.response_topic) m.response_topic = std::string(*p.response_topic);
  if (p.correlation_data) m.correlation_data = std::string(*p.correlation_data);
  m.user_properties.reserve(p.user_properties.size());
  for (const auto& up : p.user_properties) m.user_properties.emplace_back(up.key, up.value);
  if (p.message_expiry_interval)
    m.expiry_at_ms = broker::now_ms() + int64_t(*p.message_expiry_interval) * 1000;
}

}  // namespace

void Connection::handle(mqtt::Packet& pkt) {
  if (state_ == State::AwaitConnect) {
    w_.note_packet(Owes::Attention);
    if (auto* c = std::get_if<mqtt::Connect>(&pkt)) return on_connect(*c);
    return fail(Reason::ProtocolError, "first packet must be CONNECT");
  }
  using mqtt::index_of;
  w_.note_packet(owed_by(pkt));
  switch (pkt.index()) {
    case index_of<mqtt::Publish>: return on_publish(*std::get_if<mqtt::Publish>(&pkt));
    case index_of<mqtt::Ack>: return on_ack(*std::get_if<mqtt::Ack>(&pkt));
    case index_of<mqtt::Subscribe>: return on_subscribe(*std::get_if<mqtt::Subscribe>(&pkt));
    case index_of<mqtt::Unsubscribe>: return on_unsubscribe(*std::get_if<mqtt::Unsubscribe>(&pkt));
    case index_of<mqtt::Pingreq>:
      mqtt::encode_pingresp(out_);
      return queued_output();
    case index_of<mqtt::Disconnect>: return on_disconnect(*std::get_if<mqtt::Disconnect>(&pkt));
    case index_of<mqtt::Auth>: return fail(Reason::ProtocolError, "AUTH without an authentication method");
    default: return fail(Reason::ProtocolError, "unexpected packet from client");
  }
}

void Connection::refuse_connect(Reason reason, std::string_view why) {
  mqtt::Connack ack;
  ack.reason = reason;
  if (version_ == Version::V5 && requested_problem_info_) ack.props.reason_string = why;
  mqtt::encode(ack, version_, out_);
  write_socket();
  log::info("connection {} refused: {} ({})", id_, mqtt::reason_name(reason), why);
  close(Reason::Success, why);
}

void Connection::fail(Reason reason, std::string_view why) {
  log::debug("connection {} protocol error: {}", id_, why);
  if (state_ == State::AwaitConnect) {
    if (reason == Reason::UnsupportedProtocolVersion) {
      // We cannot know the client's version: answer in 3.1.1 form (return code 1),
      // which every client understands (as mosquitto does).
      version_ = Version::V3_1_1;
      refuse_connect(reason, why);
      return;
    }
    if (version_ == Version::V5) {
      refuse_connect(reason, why);
      return;
    }
    close(Reason::Success, why);
    return;
  }
  close(reason, why);
}

namespace {
// Spread over 64 bits (Fibonacci hashing of a per-loop count): a cluster picks
// the node serving a shared subscription as route_key modulo the member nodes.
uint64_t next_route_key() {
  static thread_local uint64_t n = 0;
  return ++n * 0x9E3779B97F4A7C15ull;
}
}  // namespace

void Connection::on_connect(mqtt::Connect& c) {
  version_ = c.version;
  parser_.set_version(c.version);
  if (!w_.server().serving()) return refuse_connect(Reason::ServerUnavailable, "this node is cut off from its cluster");
  const bool v5 = version_ == Version::V5;
  if (v5) requested_problem_info_ = c.props.request_problem_information.value_or(1) != 0;

  std::string assigned;
  std::string_view client_id = c.client_id;
  if (client_id.empty()) {
    if (version_ == Version::V3_1 || (version_ == Version::V3_1_1 && !c.clean_start))
      return refuse_connect(Reason::ClientIdentifierNotValid, "empty client id needs clean session");
    assigned = random_client_id();
    client_id = assigned;
  }

  // Who is it, and which namespace (instance) does it belong to?
  broker::ConnectInfo info;
  info.version = version_;
  info.client_id = client_id;
  info.username = c.username;
  info.password = c.password;
  const std::string peer = peer_address(fd_);
  info.peer_address = peer;
  std::string server_name;
  TlsSession* tls_ = tls();
  WebSocketSession* ws_ = ws();
  if (tls_) server_name = tls_->server_name();
  if (ws_ && server_name.empty()) server_name = ws_->host();
  info.server_name = server_name;
  info.secure = tls_ != nullptr;
  if (v5) {
    info.auth_method = c.props.authentication_method;
    info.auth_data = c.props.authentication_data;
  }
  std::vector<std::string> chain;
  if (tls_) {
    chain = tls_->peer_chain_der();
    info.peer_certificates = chain;
    info.peer_verified = tls_->peer_verified();
  }
  broker::Admission adm = w_.server().access().admit(info);
  if (adm.reason != Reason::Success || !adm.ns)
    return refuse_connect(adm.reason == Reason::Success ? Reason::ServerUnavailable : adm.reason,
                          adm.reason_string.empty() ? std::string_view("not admitted") : adm.reason_string);
  ns_ = std::move(adm.ns);
  access_ = std::move(adm.access);
  const auto& cfg = ns_->config();

  if (c.will) {
    if (!cfg.will_available)
      return refuse_connect(Reason::ImplementationSpecificError, "will messages are switched off on this instance");
    if (c.will->qos > cfg.maximum_qos)
      return refuse_connect(Reason::QosNotSupported, "will QoS above the maximum QoS");
    if (c.will->retain && !cfg.retain_available)
      return refuse_connect(Reason::RetainNotSupported, "retained wills are not available");
    if (access_ && !access_->may_publish(c.will->topic, c.will->qos, c.will->retain))
      return refuse_connect(Reason::NotAuthorized, "will topic not authorized");
  }

  if (v5) {
    client_receive_max_ = c.props.receive_maximum.value_or(65535);
    client_max_packet_ = c.props.maximum_packet_size.value_or(0);
    client_alias_max_ = c.props.topic_alias_maximum.value_or(0);
  }
  uint16_t keep = c.keep_alive;
  bool keep_overridden = false;
  if (const uint16_t max = w_.server().options().max_keep_alive; max != 0 && (keep == 0 || keep > max)) {
    keep = max;
    keep_overridden = true;
  }
  keep_alive_ms_ = uint32_t(keep) * 1000;

  uint32_t expiry = 0;
  bool expiry_capped = false;
  if (v5) {
    expiry = c.props.session_expiry_interval.value_or(0);
    if (expiry > cfg.max_session_expiry) {
      expiry = cfg.max_session_expiry;
      expiry_capped = true;
    }
  } else {
    expiry = c.clean_start ? 0 : std::min<uint32_t>(0xFFFFFFFF, cfg.max_session_expiry);
  }

  auto attached = ns_->connect(client_id, c.clean_start, this, w_.now_ms());
  if (attached.ended_will) ns_->publish_will(attached.ended_will, w_.ctx());
  session_ = attached.session;
  // A resumed session carries nothing this connection's principal may not read
  // (SPEC §4): subscriptions it could not make itself are dropped here; its
  // queued and unacknowledged messages are checked as they are sent (may_receive).
  if (attached.session_present && access_) drop_unauthorized_subscriptions("resumed session");
  session_->set_expiry_interval(expiry);
  session_->set_origin(peer, c.clean_start);

  if (c.will) {
    auto m = std::make_shared<broker::Message>();
    m->topic.assign(c.will->topic);
    m->payload.assign(c.will->payload);
    m->qos = c.will->qos;
    m->retain = c.will->retain;
    m->origin = session_->serial();
    if (v5) {
      copy_message_props(c.will->props, *m);
      rare().will_delay_s = c.will->props.will_delay_interval.value_or(0);
    }
    Rare& r = rare();
    r.will = std::move(m);
    r.will_key = ns_->arm_will(client_id, r.will, r.will_delay_s, access_.get());  // survives a crash of the server
  }

  state_ = Connection::State::Connected;
  if (auto* o = ns_->observer())  // issue 19: status events
    o->client_event(*ns_, broker::ClientEvent::Connect, client_id, peer_endpoint(fd_), id_);
  parser_.set_max_packet_size(cfg.max_packet_size);
  WorkerStats::add(w_.ctx().stats().connects);

  mqtt::Connack ack;
  ack.session_present = attached.session_present;
  if (v5) {
    auto& p = ack.props;
    if (cfg.receive_maximum != 65535) p.receive_maximum = cfg.receive_maximum;
    if (cfg.maximum_qos < 2) p.maximum_qos = cfg.maximum_qos;
    if (!cfg.retain_available) p.retain_available = 0;
    if (cfg.max_packet_size < 268435460) p.maximum_packet_size = cfg.max_packet_size;
    if (!assigned.empty()) p.assigned_client_identifier = assigned;
    if (cfg.topic_alias_maximum) p.topic_alias_maximum = cfg.topic_alias_maximum;
    if (!cfg.wildcard_subscriptions) p.wildcard_subscription_available = 0;
    if (!cfg.subscription_identifiers) p.subscription_identifier_available = 0;
    if (!cfg.shared_subscriptions) p.shared_subscription_available = 0;
    if (keep_overridden) p.server_keep_alive = keep;
    if (expiry_capped) p.session_expiry_interval = expiry;
  }
  mqtt::encode(ack, version_, out_);
  queued_output();
  log::debug("connection {} connected: client id {} v{} session_present={}", id_, client_id,
             static_cast<int>(version_), attached.session_present);
  session_->resume(w_.ctx());
}

void Connection::on_publish(mqtt::Publish& p) {
  const auto& cfg = ns_->config();
  const bool v5 = version_ == Version::V5;
  if (p.qos > cfg.maximum_qos) return fail(Reason::QosNotSupported, "QoS above the maximum QoS");
  if (p.retain && !cfg.retain_available) return fail(Reason::RetainNotSupported, "retain not available");

  std::string_view topic = p.topic;
  if (v5 && p.props.topic_alias) {
    const uint16_t alias = *p.props.topic_alias;
    if (alias == 0 || alias > cfg.topic_alias_maximum)
      return fail(Reason::TopicAliasInvalid, "topic alias out of range");
    std::vector<std::string>& aliases = rare().aliases_in;
    if (aliases.size() <= alias) aliases.resize(size_t(cfg.topic_alias_maximum) + 1);
    if (topic.empty()) {
      if (aliases[alias].empty()) return fail(Reason::ProtocolError, "topic alias not set");
      topic = aliases[alias];
    } else {
      aliases[alias].assign(topic);
    }
  } else if (topic.empty()) {
    return fail(Reason::TopicNameInvalid, "empty topic name");
  }

  if (p.qos == 2) {
    if (session_->incoming_qos2_seen(p.packet_id))  // a resend: acknowledge, do not route again
      return ack_publish(mqtt::PacketType::Pubrec, p.packet_id, 0);  // behind a held first PUBREC
    if (session_->incoming_qos2_count() >= cfg.receive_maximum)
      return fail(Reason::ReceiveMaximumExceeded, "too many QoS 2 messages in flight");
  }

  if (access_ && topic.size() > 5 && topic.compare(0, 5, "$SYS/") == 0 &&
      access_->on_system_publish(topic, p.payload)) {
    if (p.qos == 1) {
      mqtt::encode(mqtt::Ack{mqtt::PacketType::Puback, p.packet_id, Reason::Success, {}}, version_, out_);
      queued_output();
    } else if (p.qos == 2) {
      session_->incoming_qos2_store(p.packet_id);
      mqtt::encode(mqtt::Ack{mqtt::PacketType::Pubrec, p.packet_id, Reason::Success, {}}, version_, out_);
      queued_output();
    }
    return;
  }

  if (access_) {
    if (const Reason r = access_->authorize_publish(topic, p.qos, p.retain); r != Reason::Success) {
      ns_->count_denied(w_.ctx().id());
      return refuse_publish(p, r);
    }
  }

  auto m = broker::make_pooled_message();
  m->topic.assign(topic);
  m->payload.assign(p.payload);
  m->qos = p.qos;
  m->retain = p.retain;
  m->origin = session_->serial();
  m->route_key = next_route_key();
  if (v5) copy_message_props(p.props, *m);
  WorkerStats::add(w_.ctx().stats().messages_in);
  const uint64_t ticket_before = w_.ctx().ticket();
  ns_->publish(m, w_.ctx());
  if (ns_->tracing())
    if (auto t = ns_->tracer()) t->published(*m, session_->client_id());

  if (p.qos == 0) return;
  // Routing recorded something durable (a persistent session's queue, a retained
  // message): in fsync always / batch the ack waits until it is on disk.
  uint64_t ticket = w_.ctx().ticket() > ticket_before ? w_.ctx().ticket() : 0;
  if (p.qos == 2) ticket = std::max(ticket, session_->incoming_qos2_store(p.packet_id));
  auto* persist = w_.server().persistence();
  if (!persist || !persist->acks_wait()) ticket = 0;
  ack_publish(p.qos == 1 ? mqtt::PacketType::Puback : mqtt::PacketType::Pubrec, p.packet_id, ticket);
}

// A PUBLISH the access layer refused with `r` (SPEC §5): v5 gets the reason in
// the PUBACK/PUBREC (a rate limit as Quota exceeded; QoS 0 over the rate gets
// DISCONNECT 0x96, the code that says so); v3 cannot be told, so the connection
// is closed (as ApsaraMQ does) or, where the instance says so, a denied message
// is dropped silently.
void Connection::refuse_publish(const mqtt::Publish& p, Reason r) {
  if (version_ != Version::V5) {
    if (r != Reason::NotAuthorized || access_->close_on_denied_publish())
      return close(Reason::Success, r == Reason::NotAuthorized ? "publish not authorized" : mqtt::reason_name(r));
    if (p.qos == 0) return;  // dropped silently; QoS 1/2 are acknowledged but not routed
    auto type = p.qos == 1 ? mqtt::PacketType::Puback : mqtt::PacketType::Pubrec;
    if (p.qos == 2) session_->incoming_qos2_store(p.packet_id);
    mqtt::encode(mqtt::Ack{type, p.packet_id, Reason::Success, {}}, version_, out_);
    return queued_output();
  }
  if (p.qos == 0) {
    if (r == Reason::MessageRateTooHigh) return fail(r, "message rate above the instance's limit");
    return;
  }
  mqtt::Ack ack{p.qos == 1 ? mqtt::PacketType::Puback : mqtt::PacketType::Pubrec, p.packet_id,
                r == Reason::MessageRateTooHigh ? Reason::QuotaExceeded : r, {}};
  if (requested_problem_info_ && r != Reason::NotAuthorized) {
    // Each refusal says what it was (the per-client rate, the instance's
    // messages per second, a topic over the instance's length).
    switch (r) {
      case Reason::MessageRateTooHigh: ack.props.reason_string = "message rate above the instance's limit"; break;
      case Reason::QuotaExceeded: ack.props.reason_string = "messages per second above the instance's limit"; break;
      case Reason::TopicNameInvalid: ack.props.reason_string = "topic longer than the instance's limit"; break;
      default: ack.props.reason_string = std::string(mqtt::reason_name(r)); break;
    }
  }
  mqtt::encode(ack, version_, out_);
  queued_output();
}

void Connection::on_subscribe(mqtt::Subscribe& s) {
  const auto& cfg = ns_->config();
  const bool v5 = version_ == Version::V5;
  uint32_t sub_id = 0;
  if (!s.props.subscription_identifiers.empty()) {
    if (!cfg.subscription_identifiers)
      return fail(Reason::SubscriptionIdentifiersNotSupported, "subscription identifiers not available");
    sub_id = s.props.subscription_identifiers.front();
  }
  mqtt::SubAck ack;
  ack.type = mqtt::PacketType::Suback;
  ack.packet_id = s.packet_id;
  RetainedAsked retained;
  for (const auto& sub : s.subscriptions) {
    const std::string_view filter = sub.filter;
    Reason r;
    std::string_view group, inner = filter;
    const bool shared = mqtt::parse_shared(filter, group, inner);
    if (!mqtt::valid_topic_filter(filter)) {
      r = Reason::TopicFilterInvalid;
    } else if (shared && sub.options.no_local) {
      return fail(Reason::ProtocolError, "No Local on a shared subscription");
    } else if (shared && !cfg.shared_subscriptions) {
      r = Reason::SharedSubscriptionsNotSupported;
    } else if (!cfg.wildcard_subscriptions && has_wildcard(inner)) {
      r = Reason::WildcardSubscriptionsNotSupported;
    } else if (cfg.max_subscriptions_per_client &&
               session_->subscription_count() >= cfg.max_subscriptions_per_client) {
      r = Reason::QuotaExceeded;
    } else if (Reason denied = access_ ? access_->authorize_subscribe(filter) : Reason::Success;
               denied != Reason::Success) {
      ns_->count_denied(w_.ctx().id());
      r = denied;
    } else {
      broker::SubOptions o;
      o.qos = std::min(sub.options.qos, cfg.maximum_qos);
      // ApsaraMQ grants no QoS 2 to a persistent session's subscription: QoS 1 (a
      // lower grant, as MQTT allows; the SUBACK says which).
      if (o.qos == 2 && !cfg.qos2_persistent_sessions && session_->expiry_interval() > 0) o.qos = 1;
      o.no_local = sub.options.no_local;
      o.retain_as_published = sub.options.retain_as_published;
      o.retain_handling = sub.options.retain_handling;
      o.subscription_id = sub_id;
      const bool is_new = ns_->subscribe(session_, filter, o);
      r = static_cast<Reason>(o.qos);
      if (!shared && (o.retain_handling == 0 || (o.retain_handling == 1 && is_new)))
        retained.emplace_back(filter, o);
    }
    if (!v5 && static_cast<uint8_t>(r) >= 0x80) r = Reason::UnspecifiedError;
    ack.reasons.push_back(r);
  }
  mqtt::encode(ack, version_, out_);
  queued_output();
  if (!retained.empty()) send_retained(std::move(retained));
}

void Connection::send_retained(RetainedAsked asked, bool caught_up) {
  // In a cluster the retained messages are a mirror of a bucket another node
  // may have written a moment ago (its publisher already has its PUBACK): the
  // mirror says when it has caught up, and the messages go out then, on this
  // loop, if this connection still holds the session (docs/cluster.md).
  auto& store = ns_->retained();
  if (!caught_up && store.mirrored()) {
    store.when_current([w = &w_, id = id_, session = std::weak_ptr<broker::Session>(session_),
                        asked = std::move(asked)]() mutable {
      w->post([w, id, session = std::move(session), asked = std::move(asked)]() mutable {
        Connection* c = w->find(id);
        if (c && c->state_ == State::Connected && c->session_ == session.lock())
          c->send_retained(std::move(asked), true);
      });
    });
    return;
  }
  for (const auto& [filter, o] : asked) ns_->send_retained(session_, filter, o, w_.ctx());
}

void Connection::on_unsubscribe(mqtt::Unsubscribe& u) {
  mqtt::SubAck ack;
  ack.type = mqtt::PacketType::Unsuback;
  ack.packet_id = u.packet_id;
  for (auto f : u.filters)
    ack.reasons.push_back(ns_->unsubscribe(session_, f) ? Reason::Success : Reason::NoSubscriptionExisted);
  mqtt::encode(ack, version_, out_);
  queued_output();
}

void Connection::on_ack(mqtt::Ack& a) {
  auto& ctx = w_.ctx();
  switch (a.type) {
    case mqtt::PacketType::Puback:
      session_->on_puback(a.packet_id, ctx);
      break;
    case mqtt::PacketType::Pubrec:
      if (!session_->on_pubrec(a.packet_id, static_cast<uint8_t>(a.reason) >= 0x80, ctx)) {
        mqtt::encode(mqtt::Ack{mqtt::PacketType::Pubrel, a.packet_id, Reason::PacketIdentifierNotFound, {}},
                     version_, out_);
        queued_output();
      }
      break;
    case mqtt::PacketType::Pubrel: {
      const bool known = session_->incoming_qos2_release(a.packet_id);
      mqtt::encode(mqtt::Ack{mqtt::PacketType::Pubcomp, a.packet_id,
                             known ? Reason::Success : Reason::PacketIdentifierNotFound, {}},
                   version_, out_);
      queued_output();
      break;
    }
    case mqtt::PacketType::Pubcomp:
      session_->on_pubcomp(a.packet_id, ctx);
      break;
    default:
      break;
  }
}

void Connection::on_disconnect(mqtt::Disconnect& d) {
  if (version_ == Version::V5 && d.props.session_expiry_interval) {
    if (session_->expiry_interval() == 0 && *d.props.session_expiry_interval != 0)
      return fail(Reason::ProtocolError, "session expiry set on DISCONNECT after 0 on CONNECT");
    session_->set_expiry_interval(std::min(*d.props.session_expiry_interval, ns_->config().max_session_expiry));
  }
  will_suppressed_ = d.reason != Reason::DisconnectWithWill;
  if (auto* o = ns_->observer())  // issue 19: the cloud's "disconnect" (the client said so)
    o->client_event(*ns_, broker::ClientEvent::Disconnect, session_->client_id(), peer_endpoint(fd_), id_);
  close(Reason::Success, "client disconnected");
}

bool Connection::send_publish(const broker::Message& m, uint8_t qos, uint16_t packet_id, bool retain,
                              bool dup, uint32_t subscription_id) {
  if (state_ != State::Connected) return false;
  mqtt::Publish& p = w_.publish_scratch();
  p.topic = m.topic;
  p.payload = m.payload;
  p.qos = qos;
  p.packet_id = packet_id;
  p.retain = retain;
  p.dup = dup;
  uint16_t new_alias = 0;
  if (version_ == Version::V5) {
    auto& pr = p.props;
    pr.payload_format_indicator = m.payload_format;
    pr.content_type = m.content_type ? std::optional<std::string_view>(*m.content_type) : std::nullopt;
    pr.response_topic = m.response_topic ? std::optional<std::string_view>(*m.response_topic) : std::nullopt;
    pr.correlation_data =
        m.correlation_data ? std::optional<std::string_view>(*m.correlation_data) : std::nullopt;
    pr.user_properties.clear();
    for (const auto& [k, v] : m.user_properties) pr.user_properties.push_back({k, v});
    pr.subscription_identifiers.clear();
    if (subscription_id) pr.subscription_identifiers.push_back(subscription_id);
    pr.message_expiry_interval.reset();
    if (m.expiry_at_ms) {
      const int64_t left = m.expiry_at_ms - broker::now_ms();
      pr.message_expiry_interval = static_cast<uint32_t>(std::max<int64_t>(1, (left + 999) / 1000));
    }
    pr.topic_alias.reset();
    if (client_alias_max_) {
      auto& out = rare().aliases_out;
      auto it = out.find(m.topic);
      if (it != out.end()) {
        pr.topic_alias = it->second;
        p.topic = {};
      } else if (next_out_alias_ <= client_alias_max_) {
        new_alias = next_out_alias_;
        pr.topic_alias = new_alias;
      }
    }
  }
  if (client_max_packet_ && mqtt::encoded_size(p, version_) > client_max_packet_) {
    log::debug("connection {}: message on {} exceeds the client's maximum packet size", id_, m.topic);
    return false;
  }
  if (new_alias) {
    rare_->aliases_out.emplace(m.topic, new_alias);
    ++next_out_alias_;
  }
  mqtt::encode(p, version_, out_);
  WorkerStats::add(w_.ctx().stats().messages_out);
  if (ns_->tracing())
    if (auto t = ns_->tracer()) t->delivered(m, session_->client_id(), qos);
  queued_output();
  return true;
}

void Connection::send_pubrel(uint16_t packet_id) {
  if (state_ != State::Connected) return;
  mqtt::encode(mqtt::Ack{mqtt::PacketType::Pubrel, packet_id, Reason::Success, {}}, version_, out_);
  queued_output();
}

}  // namespace sluice::net

namespace sluice::net {

void Connection::check_access(int64_t now) {
  broker::ClientAccess::Check c = access_->check(now);
  for (auto& [topic, payload] : c.notices) {
    broker::Message m;
    m.topic = std::move(topic);
    m.payload = std::move(payload);
    send_publish(m, 0, 0, false, false, 0);
  }
  if (c.reason != Reason::Success) {
    log::info("connection {} ({}): rights revoked: {}", id_, session_->client_id(), c.why);
    return close(c.reason, c.why.empty() ? "not authorized" : c.why);
  }
  if (!c.rights_changed) return;
  drop_unauthorized_subscriptions("rights changed");
}

void Connection::drop_unauthorized_subscriptions(std::string_view why) {
  for (const auto& f : session_->subscription_filters()) {
    if (!access_->may_subscribe(f)) {
      log::info("connection {} ({}): subscription {} removed ({}): not authorized", id_, session_->client_id(), f,
                why);
      ns_->unsubscribe(session_, f);
    }
  }
}

}  // namespace sluice::net
