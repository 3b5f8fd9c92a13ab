#include "cluster/bus.hpp"

#include <chrono>
#include <random>

#include <fmt/format.h>

#include "broker/broker.hpp"
#include "broker/clock.hpp"
#include "broker/namespace.hpp"
#include "broker/persistence.hpp"
#include "cluster/durability.hpp"
#include "cluster/envelope.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/sessions.hpp"
#include "cluster/shared_groups.hpp"
#include "cluster/subjects.hpp"
#include "common/log.hpp"
#include "mqtt/topic.hpp"
#include "persist/message_codec.hpp"

namespace sluice::cluster {

namespace {

constexpr const char* kQos0 = "sl0";     // core subjects of QoS 0 messages
constexpr const char* kLogged = "sl1";   // subjects of the stream (QoS 1/2)
constexpr const char* kP2p = "slp";      // P2P QoS 0 to a client on another node
constexpr size_t kSeenWindow = 65536;    // ids remembered per source node

}  // namespace

ClusterBus::ClusterBus(NatsLink& link, ClusterDurability& durability, SharedGroups& shared, std::string node)
    : MessageBus(Traits{.logged_loop_back = true, .picks_shared = true}),
      link_(link),
      durability_(durability),
      shared_(shared),
      node_(std::move(node)),
      msg_id_prefix_(node_ + "-" + [] {
        std::random_device rd;
        return fmt::format("{:08x}{:08x}", rd(), rd());
      }() + "-") {}

ClusterBus::~ClusterBus() { stop(); }

void ClusterBus::start(broker::Broker& broker, broker::Dispatcher& d) {
  broker_ = &broker;
  dispatcher_ = &d;
  auto handler = [this](NatsMessage&& m) { receive(std::move(m)); };
  // From now on: a node routes what is logged after it starts (sessions from
  // before are read back from their positions when they resume).
  fixed_subs_.push_back(link_.js_follow(kStream, std::string(kLogged) + ".>", 0, handler));
  fixed_subs_.push_back(link_.subscribe(std::string(kP2p) + ".>", "", handler));
  std::lock_guard lk(interest_mu_);
  started_ = true;
  for (auto& [subject, in] : interest_)
    if (in.users > 0 && in.sub == 0) in.sub = link_.subscribe(subject, "", handler);
}

void ClusterBus::stop() {
  for (uint64_t id : fixed_subs_) link_.unsubscribe(id);
  fixed_subs_.clear();
  std::lock_guard lk(interest_mu_);
  for (auto& [subject, in] : interest_)
    if (in.sub) link_.unsubscribe(in.sub), in.sub = 0;
  started_ = false;
}

Envelope ClusterBus::envelope(const broker::Namespace& ns, const broker::Message& m) {
  return Envelope{node_, next_id_.fetch_add(1, std::memory_order_relaxed) + 1, ns.id(), m.origin, m.route_key};
}

void ClusterBus::forward(broker::Namespace& ns, const broker::MessagePtr& m, broker::WorkerContext& ctx) {
  const Envelope e = envelope(ns, *m);
  std::string data = seal_message(e, *m);
  if (m->qos == 0) {
    link_.publish(topic_subject(kQos0, ns.id(), m->topic), data);
    stats_.sent_qos0.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // Logged once; the publisher's acknowledgement waits for JetStream's. The id
  // lets JetStream drop a resend of the same write (a retry after a lost ack).
  std::string subject = topic_subject(kLogged, ns.id(), m->topic);
  std::string msg_id = msg_id_prefix_ + std::to_string(e.id);
  const uint64_t ticket = durability_.track(
      [this, subject = std::move(subject), data = std::move(data), msg_id = std::move(msg_id)](
          std::function<void(bool)> done) {
        link_.js_publish(subject, data, {}, msg_id, [done](bool ok, uint64_t) { done(ok); });
      });
  ctx.note_ticket(ticket);
  stats_.sent_logged.fetch_add(1, std::memory_order_relaxed);
}

void ClusterBus::forward_p2p(broker::Namespace& ns, std::string_view client_id, const broker::MessagePtr& m,
                             broker::WorkerContext&) {
  (void)client_id;
  link_.publish(std::string(kP2p) + "." + escape_token(ns.id()), seal_message(envelope(ns, *m), *m));
  stats_.sent_qos0.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::string> ClusterBus::subjects_of(const broker::Namespace& ns, std::string_view filter) const {
  std::string_view group, inner = filter;
  mqtt::parse_shared(filter, group, inner);
  auto subjects = filter_subjects(kQos0, ns.id(), inner);
  if (may_match_long_topics(inner)) subjects.push_back(long_subject(kQos0, ns.id()));
  return subjects;
}

void ClusterBus::interest_added(broker::Namespace& ns, std::string_view filter) {
  std::string_view group, inner = filter;
  if (mqtt::parse_shared(filter, group, inner)) shared_.added(ns.id(), group, inner);
  auto subjects = subjects_of(ns, filter);
  std::lock_guard lk(interest_mu_);
  for (auto& s : subjects) {
    Interest& in = interest_[s];
    if (in.users++ == 0 && started_) in.sub = link_.subscribe(s, "", [this](NatsMessage&& m) { receive(std::move(m)); });
  }
}

void ClusterBus::interest_removed(broker::Namespace& ns, std::string_view filter) {
  std::string_view group, inner = filter;
  if (mqtt::parse_shared(filter, group, inner)) shared_.removed(ns.id(), group, inner);
  auto subjects = subjects_of(ns, filter);
  std::lock_guard lk(interest_mu_);
  for (auto& s : subjects) {
    auto it = interest_.find(s);
    if (it == interest_.end() || it->second.users == 0) continue;
    if (--it->second.users == 0) {
      if (it->second.sub) link_.unsubscribe(it->second.sub);
      interest_.erase(it);
    }
  }
}

bool ClusterBus::serves_shared(broker::Namespace& ns, std::string_view group, std::string_view filter,
                               const broker::Message& m) {
  return shared_.serves(ns.id(), group, filter, m.route_key, m.topic);
}

bool ClusterBus::seen_before(const std::string& node, uint64_t id) {
  std::lock_guard lk(seen_mu_);
  Seen& s = seen_[node];
  if (!s.ids.insert(id).second) return true;
  s.order.push_back(id);
  if (s.order.size() > kSeenWindow) {
    s.ids.erase(s.order.front());
    s.order.pop_front();
  }
  return false;
}

void ClusterBus::receive(NatsMessage&& msg) {
  const bool logged = msg.stream_seq != 0;
  Envelope e;
  std::string_view body;
  if (!read_envelope(msg.data, msg.headers, e, body)) {
    stats_.undecodable.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // A core message can come through several overlapping subscriptions; the
  // stream's consumer delivers each message once (checked before decoding it).
  if (!logged && seen_before(std::string(e.node), e.id)) {
    stats_.duplicates.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto m = persist::decode_message_mut(body, broker::wall_ms(), broker::now_ms());
  if (!m) {
    stats_.undecodable.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // The origin names a session of the publishing node; elsewhere it means nothing
  // (and must not match a local session's serial: No Local).
  m->origin = e.node == node_ ? e.origin : 0;
  m->route_key = e.route_key;
  m->log_seq = msg.stream_seq;
  (logged ? stats_.received_logged : stats_.received_qos0).fetch_add(1, std::memory_order_relaxed);
  bool schedule = false;
  {
    std::lock_guard lk(in_mu_);
    inbox_.push_back(Inbound{std::string(e.ns), std::move(m)});
    if (!drain_scheduled_) drain_scheduled_ = schedule = true;
  }
  if (schedule && dispatcher_) dispatcher_->run(0, [this](broker::WorkerContext& ctx) { drain(ctx); });
}

void ClusterBus::drain(broker::WorkerContext& ctx) {
  std::vector<Inbound> batch;
  {
    std::lock_guard lk(in_mu_);
    batch.swap(inbox_);
    drain_scheduled_ = false;
  }
  for (auto& in : batch) {
    auto ns = broker_->find(in.ns);
    if (!ns) {
      stats_.unknown_namespace.fetch_add(1, std::memory_order_relaxed);
    } else {
      ns->publish_local(in.message, ctx);
    }
    // Every persistent session here has recorded it by now, or does not need it.
    if (in.message->log_seq && sessions_) sessions_->routed(in.message->log_seq);
  }
}

}  // namespace sluice::cluster
