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
  auto store = std::make_unique<KvRetained>();
  std::lock_guard lk(mu_);
  stores_[std::string(ns)] = store.get();
  if (auto it = parked_.find(ns); it != parked_.end()) {
    for (auto& m : it->second) store->set(m);
    parked_.erase(it);
  }
  return store;
}

void RetainedMirror::start(NatsLink& link) {
  link_ = &link;
  watch_ = link.kv_watch(ClusterDurability::kRetainedBucket, [this](NatsMessage&& e) { apply(std::move(e)); });
}

void RetainedMirror::stop() {
  if (link_ && watch_) link_->unwatch(watch_);
  watch_ = 0;
}

void RetainedMirror::apply(NatsMessage&& e) {
  // Key "<ns>.<levels>": the namespace is its first token.
  const std::string& key = e.subject;
  const size_t dot = key.find('.');
  auto ns = unescape_token(key.substr(0, dot));
  auto topic = dot == std::string::npos ? std::nullopt : subject_topic("r." + key, "r", ns.value_or(""));
  if (!ns || !topic) {
    log::debug("cluster: retained key {} is not one of ours", key);
    return;
  }
  broker::MessagePtr m;
  if (e.headers.count("op")) {  // deleted: an empty retained message clears the topic
    auto clear = std::make_shared<broker::Message>();
    clear->topic = *topic;
    clear->retain = true;
    m = clear;
  } else {
    m = persist::decode_message(e.data, broker::wall_ms(), broker::now_ms());
    if (!m) return;
  }
  std::lock_guard lk(mu_);
  if (auto it = stores_.find(*ns); it != stores_.end()) {
    it->second->set(m);
    return;
  }
  auto& parked = parked_[*ns];
  parked.push_back(std::move(m));
}

}  // namespace sluice::cluster
