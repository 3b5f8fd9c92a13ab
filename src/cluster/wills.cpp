#include "cluster/wills.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>

#include "broker/access.hpp"
#include "broker/broker.hpp"
#include "broker/clock.hpp"
#include "broker/dispatch.hpp"
#include "broker/namespace.hpp"
#include "cluster/directory.hpp"
#include "cluster/leases.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/subjects.hpp"
#include "common/fields.hpp"
#include "common/log.hpp"
#include "persist/message_codec.hpp"

namespace sluice::cluster {

namespace {

// A value: length-prefixed fields ("<n>:<bytes>"), delay, namespace, client id,
// the client's identity (empty: anonymous), then the encoded message.
// (common/fields.hpp; a damaged value reads as false, never past its end)
using common::put_field;
using common::take_field;

std::string random_incarnation() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 12; ++i) s += kHex[rd() & 15];
  return s;
}

}  // namespace

ClusterWills::ClusterWills(NatsLink& link, NodeLeases& leases, ClusterDirectory& directory, std::string node)
    : link_(link), leases_(leases), directory_(directory), node_(std::move(node)), incarnation_(random_incarnation()) {}

ClusterWills::~ClusterWills() { stop(); }

void ClusterWills::start(broker::Broker& broker, broker::Dispatcher& d) {
  broker_ = &broker;
  dispatcher_ = &d;
  watch_ = link_.kv_watch(kBucket, [this](NatsMessage&& e) { on_entry(std::move(e)); });
  sweeper_ = std::thread([this] {
    std::unique_lock lk(mu_);
    while (!stopping_) {
      cv_.wait_for(lk, std::chrono::milliseconds(500));
      if (stopping_) break;
      lk.unlock();
      sweep();
      lk.lock();
    }
  });
}

void ClusterWills::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
  if (watch_) link_.unwatch(watch_);
  watch_ = 0;
}

// Asynchronous, in this node's order: the CONNECT never waits for them.
void ClusterWills::record(const broker::PersistRecord& r) {
  const std::string key = escape_token(node_) + "." + incarnation_ + "." + std::to_string(r.key);
  if (r.kind == broker::PersistRecord::Kind::WillArmed && r.message) {
    std::string v;
    put_field(v, std::to_string(r.expiry_s));
    put_field(v, r.ns);
    put_field(v, r.client_id);
    put_field(v, r.text);
    v += persist::encode_message(*r.message);
    stats_.armed.fetch_add(1, std::memory_order_relaxed);
    link_.kv_write_async(kBucket, key, v);
  } else if (r.kind == broker::PersistRecord::Kind::WillDisarmed) {
    link_.kv_write_async(kBucket, key, {});
  } else if (r.kind == broker::PersistRecord::Kind::WillScheduled && r.message) {
    // The delayed will of a session whose connection closed: kept until it
    // goes out here or is cancelled (WillCancelled: published, the client
    // came back, the session taken over), so that a survivor sends it if
    // this node dies first. "@<due wall ms>@<disconnected wall ms>" in place
    // of the delay.
    std::string v;
    put_field(v, "@" + std::to_string(r.wall_ms) + "@" + std::to_string(broker::wall_ms()) + "@" + std::to_string(r.seq));
    put_field(v, r.ns);
    put_field(v, r.client_id);
    put_field(v, r.text);
    v += persist::encode_message(*r.message);
    stats_.armed.fetch_add(1, std::memory_order_relaxed);
    link_.kv_write_async(kBucket, key + "s", v);
  } else if (r.kind == broker::PersistRecord::Kind::WillCancelled) {
    link_.kv_write_async(kBucket, key + "s", {});
  }
}

void ClusterWills::on_entry(NatsMessage&& e) {
  // <node>.<incarnation>.<key>
  const size_t a = e.subject.find('.');
  const size_t b = a == std::string::npos ? a : e.subject.find('.', a + 1);
  if (b == std::string::npos) return;
  auto node = unescape_token(std::string_view(e.subject).substr(0, a));
  if (!node) return;
  std::lock_guard lk(mu_);
  if (e.headers["op"] == "del" || e.data.empty() || e.data.rfind("claimed ", 0) == 0) {
    entries_.erase(e.subject);
    return;
  }
  entries_[e.subject] = Entry{*node, e.subject.substr(a + 1, b - a - 1), e.stream_seq, std::move(e.data)};
}

// The will of a node that is gone: another node's whose lease ran out, or this
// node's from before it restarted.
bool ClusterWills::orphaned(const Entry& e) const {
  if (e.node == node_) return e.incarnation != incarnation_;
  return !leases_.alive(e.node);
}

void ClusterWills::sweep() {
  std::vector<std::pair<std::string, Entry>> orphans;
  {
    std::lock_guard lk(mu_);
    for (const auto& [key, e] : entries_)
      if (orphaned(e)) orphans.emplace_back(key, e);
  }
  const int64_t now = broker::now_ms();
  for (auto& [key, e] : orphans) {
    // One claim wins: the entry's revision moves with it.
    if (!link_.kv_update(kBucket, key, "claimed " + node_, e.revision)) continue;
    std::string_view in = e.value, delay, ns, client, identity;
    if (!take_field(in, delay) || !take_field(in, ns) || !take_field(in, client) || !take_field(in, identity)) continue;
    auto m = persist::decode_message(in, broker::wall_ms(), now);
    if (!m) continue;
    int64_t delay_ms = 0, since = now;
    std::string own_claim;
    if (!delay.empty() && delay[0] == '@') {
      // A scheduled will (its connection had closed): due at a wall time; a
      // claim of its client id since the disconnect, other than the session's
      // own (which may reach this node after the close), cancels it.
      int64_t due_wall = 0, closed_wall = 0;
      const size_t at = delay.find('@', 1);
      const size_t at2 = at == std::string_view::npos ? at : delay.find('@', at + 1);
      if (at2 == std::string_view::npos) continue;
      std::from_chars(delay.data() + 1, delay.data() + at, due_wall);
      std::from_chars(delay.data() + at + 1, delay.data() + at2, closed_wall);
      own_claim = e.node + " " + std::string(delay.substr(at2 + 1));
      const int64_t wall = broker::wall_ms();
      delay_ms = std::max<int64_t>(0, due_wall - wall);
      since = now - std::max<int64_t>(0, wall - closed_wall);
    } else {
      uint32_t delay_s = 0;
      std::from_chars(delay.data(), delay.data() + delay.size(), delay_s);
      delay_ms = int64_t(delay_s) * 1000;
    }
    stats_.taken_over.fetch_add(1, std::memory_order_relaxed);
    log::info("cluster: will of client {} (node {} gone) goes out in {} ms", std::string(client), e.node, delay_ms);
    std::lock_guard lk(mu_);
    due_.emplace(now + delay_ms,
                 Due{now + delay_ms, since, key, std::string(ns), std::string(client), std::move(m), std::move(own_claim),
                     std::string(identity)});
  }
  std::vector<Due> ready;
  {
    std::lock_guard lk(mu_);
    while (!due_.empty() && due_.begin()->first <= now) {
      ready.push_back(std::move(due_.begin()->second));
      due_.erase(due_.begin());
    }
  }
  for (auto& d : ready) {
    // A new connection to the session cancels the will (MQTT 5 3.1.3.2.2):
    // the client id was claimed again after the node was found gone.
    if (directory_.claimed_again(d.ns, d.client_id, d.found_gone_ms, d.own_claim)) {
      stats_.skipped.fetch_add(1, std::memory_order_relaxed);
    } else if (dispatcher_) {
      // Decided here, off the event loops (it may read the control store), as
      // the node that armed it would decide now: its guard asks the client's
      // identity's current rights, and audits a refusal.
      const broker::Will will{d.message,
                              access_ && !d.identity.empty() ? access_->will_guard_for(d.identity) : nullptr};
      if (!will.allowed()) {
        stats_.denied.fetch_add(1, std::memory_order_relaxed);
        log::info("cluster: will of client {} refused: its rights no longer allow it", d.client_id);
      } else {
        stats_.published.fetch_add(1, std::memory_order_relaxed);
        dispatcher_->run(0, [this, ns = d.ns, m = d.message](broker::WorkerContext& ctx) {
          if (auto n = broker_->find(ns)) n->publish(m, ctx);
        });
      }
    }
    link_.kv_delete(kBucket, d.key);
  }
}

}  // namespace sluice::cluster
