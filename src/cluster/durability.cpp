#include "cluster/durability.hpp"

#include <chrono>

#include "cluster/nats_link.hpp"
#include "cluster/sessions.hpp"
#include "cluster/subjects.hpp"
#include "cluster/wills.hpp"
#include "common/log.hpp"
#include "persist/message_codec.hpp"

namespace sluice::cluster {

ClusterDurability::ClusterDurability(NatsLink& link) : link_(link) {
  retry_thread_ = std::thread([this] {
    std::unique_lock lk(retry_mu_);
    while (!stopping_) {
      if (retries_.empty()) {
        retry_cv_.wait(lk);
        continue;
      }
      const uint64_t ticket = retries_.front().first;
      Write run = std::move(retries_.front().second);
      retries_.pop_front();
      lk.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      run([this, ticket, run](bool ok) {
        if (ok) complete(ticket);
        else retry_later(ticket, run);
      });
      lk.lock();
    }
  });
}

ClusterDurability::~ClusterDurability() {
  {
    std::lock_guard a(retry_mu_);
    stopping_ = true;
  }
  retry_cv_.notify_all();
  retry_thread_.join();
}

void ClusterDurability::set_on_durable(std::function<void(uint64_t)> f) {
  std::lock_guard lk(mu_);
  on_durable_ = std::move(f);
}

uint64_t ClusterDurability::track(Write run) {
  const uint64_t ticket = next_ticket_.fetch_add(1) + 1;
  run([this, ticket, run](bool ok) {
    if (ok) complete(ticket);
    else retry_later(ticket, run);
  });
  return ticket;
}

void ClusterDurability::retry_later(uint64_t ticket, Write run) {
  {
    std::lock_guard lk(retry_mu_);
    if (stopping_) return;
    retries_.emplace_back(ticket, std::move(run));
  }
  retry_cv_.notify_one();
}

void ClusterDurability::complete(uint64_t ticket) {
  std::function<void(uint64_t)> notify;
  uint64_t frontier;
  {
    std::lock_guard lk(mu_);
    done_.insert(ticket);
    frontier = frontier_.load(std::memory_order_relaxed);
    while (!done_.empty() && *done_.begin() == frontier + 1) {
      done_.erase(done_.begin());
      ++frontier;
    }
    if (frontier == frontier_.load(std::memory_order_relaxed)) return;
    frontier_.store(frontier, std::memory_order_release);
    notify = on_durable_;
  }
  if (notify) notify(frontier);
}

std::string ClusterDurability::retained_key(std::string_view ns, std::string_view topic) {
  // The subject form without its prefix: "<ns>.<levels>" (valid key tokens).
  std::string s = topic_subject("r", ns, topic);
  return s.substr(2);
}

uint64_t ClusterDurability::submit(broker::PersistRecord&& r) {
  using Kind = broker::PersistRecord::Kind;
  if ((r.kind == Kind::WillArmed || r.kind == Kind::WillDisarmed || r.kind == Kind::WillScheduled ||
       r.kind == Kind::WillCancelled) &&
      wills_)
    wills_->record(r);
  if (r.kind != Kind::RetainedSet && r.kind != Kind::RetainedCleared) {
    // Kept by the message log and the session directory, not here: durable now.
    const uint64_t ticket = next_ticket_.fetch_add(1) + 1;
    if (sessions_ && r.kind != Kind::WillArmed && r.kind != Kind::WillDisarmed) {
      if (r.kind == Kind::MessageQueued) r.seq = ticket;  // the record's sequence is its ticket
      sessions_->record(r);
    }
    complete(ticket);
    return ticket;
  }
  std::string key = retained_key(r.ns, r.text);
  std::string value = r.kind == Kind::RetainedSet && r.message ? persist::encode_message(*r.message) : std::string();
  return track([this, key = std::move(key), value = std::move(value)](std::function<void(bool)> done) {
    link_.kv_write_async(kRetainedBucket, key, value, [key, done = std::move(done)](bool ok) {
      if (!ok) log::debug("cluster: retained {} not written yet; retrying", key);
      done(ok);
    });
  });
}

}  // namespace sluice::cluster
