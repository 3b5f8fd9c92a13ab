#include "cluster/retained.hpp"

#include "broker/clock.hpp"
#include "broker/persistence.hpp"
#include "cluster/durability.hpp"
#include "cluster/nats_link.hpp"
#include "cluster/subjects.hpp"
#include "common/log.hpp"
#include "persist/message_codec.hpp"

namespace sluice::cluster {

std::unique_ptr<broker::RetainedMessages> RetainedMirror::make(std::string_view ns) {
  auto store = std::make_unique<KvRetained>(*this);
  std::lock_guard lk(mu_);
  stores_[std::string(ns)] = store.get();
  if (auto it = parked_.find(ns); it != parked_.end()) {
    for (auto& m : it->second) store->set(m);
    parked_.erase(it);
  }
  return store;
}

void KvRetained::when_current(std::function<void()> ready) { mirror_.when_current(std::move(ready)); }

void RetainedMirror::start(NatsLink& link) {
  link_ = &link;
  watch_ = link.kv_watch(ClusterDurability::kRetainedBucket, [this](NatsMessage&& e) { apply(std::move(e)); });
  catch_up_ = std::thread([this] { catch_up_loop(); });
}

void RetainedMirror::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    waiting_.clear();
  }
  cv_.notify_all();
  if (catch_up_.joinable()) catch_up_.join();
  if (link_ && watch_) link_->unwatch(watch_);
  watch_ = 0;
}

void RetainedMirror::when_current(std::function<void()> ready) {
  {
    std::lock_guard lk(mu_);
    if (stopping_ || !link_) return;
    waiting_.push_back(std::move(ready));
  }
  cv_.notify_all();
}

void RetainedMirror::catch_up_loop() {
  // Callers that came while a request was out wait for the next one: the
  // bucket's last sequence must be read after they came.
  const std::string stream = std::string("KV_") + ClusterDurability::kRetainedBucket;
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [&] { return stopping_ || !waiting_.empty(); });
    if (stopping_) return;
    auto batch = std::move(waiting_);
    waiting_.clear();
    lk.unlock();
    const auto last = link_->js_last_seq(stream);
    lk.lock();
    if (last && *last > applied_) {
      target_ = *last;
      if (!cv_.wait_for(lk, std::chrono::milliseconds(kMaxWaitMs), [&] { return stopping_ || applied_ >= target_; }))
        log::warn("cluster: retained mirror still behind the bucket after {} ms (at {} of {})", kMaxWaitMs,
                  applied_, target_);
      target_ = 0;
    }
    if (stopping_) return;
    lk.unlock();
    for (auto& ready : batch) ready();
    lk.lock();
  }
}

void RetainedMirror::apply(NatsMessage&& e) {
  auto m = decode(e);
  std::unique_lock lk(mu_);
  if (m) {
    if (auto it = stores_.find(m->first); it != stores_.end()) {
      it->second->set(m->second);
    } else {
      parked_[m->first].push_back(std::move(m->second));
    }
  }
  // Every entry counts toward catching up, one of ours or not.
  if (e.stream_seq > applied_) applied_ = e.stream_seq;
  const bool wake = target_ && applied_ >= target_;
  lk.unlock();
  if (wake) cv_.notify_all();
}

std::optional<std::pair<std::string, broker::MessagePtr>> RetainedMirror::decode(const NatsMessage& e) {
  // Key "<ns>.<levels>": the namespace is its first token.
  const std::string& key = e.subject;
  const size_t dot = key.find('.');
  auto ns = unescape_token(key.substr(0, dot));
  auto topic = dot == std::string::npos ? std::nullopt : subject_topic("r." + key, "r", ns.value_or(""));
  if (!ns || !topic) {
    log::debug("cluster: retained key {} is not one of ours", key);
    return std::nullopt;
  }
  if (e.headers.count("op")) {  // deleted: an empty retained message clears the topic
    auto clear = std::make_shared<broker::Message>();
    clear->topic = *topic;
    clear->retain = true;
    return std::pair{std::move(*ns), broker::MessagePtr(std::move(clear))};
  }
  auto m = persist::decode_message(e.data, broker::wall_ms(), broker::now_ms());
  if (!m) return std::nullopt;
  return std::pair{std::move(*ns), std::move(m)};
}

}  // namespace sluice::cluster
