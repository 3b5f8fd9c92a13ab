#include "cluster/directory.hpp"

#include <charconv>

#include "broker/broker.hpp"
#include "broker/clock.hpp"
#include "broker/dispatch.hpp"
#include "broker/namespace.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/sessions.hpp"
#include "cluster/subjects.hpp"
#include "common/crypto.hpp"
#include "common/log.hpp"

namespace sluice::cluster {

namespace {

// slc.<ns>.<client id>; a client id too long for a subject token by its digest
// (it only has to name the same client id on every node).
std::string claim_subject(std::string_view ns, std::string_view client_id) {
  std::string token = escape_token(client_id);
  if (token.size() > 200) token = "H" + common::sha256_hex(client_id);
  return "slc." + escape_token(ns) + "." + token;
}

}  // namespace

// Epochs start from the wall clock so that a restarted node's claims never
// repeat its earlier incarnation's "<node> <epoch>" (a will's own claim, wills.cpp).
ClusterDirectory::ClusterDirectory(NatsLink& link, std::string node)
    : link_(link), node_(std::move(node)), next_epoch_(static_cast<uint64_t>(broker::wall_ms()) * 1000) {}

ClusterDirectory::~ClusterDirectory() { stop(); }

void ClusterDirectory::start(broker::Broker& broker, broker::Dispatcher& d) {
  broker_ = &broker;
  dispatcher_ = &d;
  follow_ = link_.js_follow(kStream, kSubjects, 0, [this](NatsMessage&& m) { on_claim(std::move(m)); });
}

void ClusterDirectory::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  if (follow_) link_.unsubscribe(follow_);
  follow_ = 0;
}

broker::SessionDirectory::Claim ClusterDirectory::claim(std::string_view ns, std::string_view client_id,
                                                        bool resumes) {
  const uint64_t epoch = next_epoch_.fetch_add(1) + 1;
  std::string subject = claim_subject(ns, client_id);
  {
    std::lock_guard lk(mu_);
    mine_[subject] = Mine{epoch, false};
  }
  stats_.claims.fetch_add(1, std::memory_order_relaxed);
  publish_claim(std::move(subject), std::string(ns), std::string(client_id), epoch, resumes, 0);
  return Claim{epoch, false};
}

// Asynchronous: the CONNECT does not wait. A claim JetStream did not store
// (NATS reconnecting, a timeout) is sent again while it is still this node's
// latest claim of the client id: until it is in the stream, nobody else's
// connection can be told to go.
void ClusterDirectory::publish_claim(std::string subject, std::string ns, std::string client_id, uint64_t epoch,
                                     bool resumes, int attempt) {
  const std::string data = node_ + " " + std::to_string(epoch);
  // Sl-R: the claim resumes the session (no clean start); absent (also from
  // an older node): the session ends where it was, as before.
  std::map<std::string, std::string> headers{{"Sl-Ns", ns}, {"Sl-C", client_id}};
  if (resumes) headers["Sl-R"] = "1";
  link_.js_publish(subject, data, headers, "",
                   [this, subject, ns, client_id, epoch, resumes, attempt](bool ok, uint64_t) mutable {
                     if (ok) return;
                     stats_.failed_claims.fetch_add(1, std::memory_order_relaxed);
                     {
                       std::lock_guard lk(mu_);
                       auto it = mine_.find(subject);
                       if (it == mine_.end() || it->second.epoch != epoch || stopping_ || attempt >= 20) return;
                     }
                     publish_claim(std::move(subject), std::move(ns), std::move(client_id), epoch, resumes, attempt + 1);
                   });
}

void ClusterDirectory::release(std::string_view ns, std::string_view client_id, uint64_t epoch) {
  const std::string subject = claim_subject(ns, client_id);
  std::lock_guard lk(mu_);
  auto it = mine_.find(subject);
  if (it != mine_.end() && it->second.epoch == epoch) mine_.erase(it);
}

std::optional<broker::SessionDirectory::Resumable> ClusterDirectory::resumable(std::string_view ns,
                                                                                 std::string_view client_id,
                                                                                 bool clean_start) {
  return sessions_ ? sessions_->resumable(ns, client_id, clean_start) : std::nullopt;
}

void ClusterDirectory::resume(broker::Namespace& ns, const std::shared_ptr<broker::Session>& s) {
  if (sessions_) sessions_->resume(ns, s);
}

bool ClusterDirectory::claimed_since(std::string_view ns, std::string_view client_id, int64_t since_ms) {
  const std::string subject = claim_subject(ns, client_id);
  std::lock_guard lk(mu_);
  auto it = last_claim_.find(subject);
  return it != last_claim_.end() && it->second.at >= since_ms;
}

bool ClusterDirectory::claimed_again(std::string_view ns, std::string_view client_id, int64_t since_ms,
                                     std::string_view own_claim) {
  const std::string subject = claim_subject(ns, client_id);
  std::lock_guard lk(mu_);
  auto it = last_claim_.find(subject);
  return it != last_claim_.end() && it->second.at >= since_ms && it->second.by != own_claim;
}

// Claims arrive on one libnats thread, in the stream's order.
void ClusterDirectory::on_claim(NatsMessage&& m) {
  const size_t space = m.data.find(' ');
  if (space == std::string::npos) return;
  const std::string_view node = std::string_view(m.data).substr(0, space);
  uint64_t epoch = 0;
  std::from_chars(m.data.data() + space + 1, m.data.data() + m.data.size(), epoch);
  uint64_t evict = 0;
  {
    std::lock_guard lk(mu_);
    const int64_t now = broker::now_ms();
    last_claim_[m.subject] = Seen{now, m.data};
    if (now - last_prune_ > 60'000) {
      last_prune_ = now;
      std::erase_if(last_claim_, [now](const auto& kv) { return now - kv.second.at > 600'000; });
    }
    auto it = mine_.find(m.subject);
    if (it == mine_.end()) return;
    if (node == node_) {
      if (it->second.epoch == epoch) it->second.seen = true;
      return;
    }
    // Another node's claim: it wins over ours only if ours came first (ours not
    // seen yet means it comes later in the stream, and wins there).
    if (!it->second.seen) return;
    evict = it->second.epoch;
    mine_.erase(it);
  }
  stats_.evictions.fetch_add(1, std::memory_order_relaxed);
  if (sessions_) sessions_->handing_over(m.headers["Sl-Ns"], m.headers["Sl-C"]);
  if (!dispatcher_) return;
  const bool resumed = m.headers["Sl-R"] == "1";
  dispatcher_->run(0, [this, ns = m.headers["Sl-Ns"], client = m.headers["Sl-C"], evict, resumed](broker::WorkerContext& ctx) {
    if (auto n = broker_->find(ns)) n->evict(client, evict, resumed, ctx);
  });
}

}  // namespace sluice::cluster
