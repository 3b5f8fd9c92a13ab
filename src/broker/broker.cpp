#include "broker/broker.hpp"

namespace sluice::broker {

Broker::Broker(unsigned workers, NamespaceConfig defaults) : defaults_(defaults) {
  for (unsigned i = 0; i < workers; ++i) stats_.push_back(std::make_unique<WorkerStats>());
}

Broker::~Broker() = default;

std::shared_ptr<Namespace> Broker::get_or_create(std::string_view id) {
  return get_or_create(id, defaults_);
}

std::shared_ptr<Namespace> Broker::get_or_create(std::string_view id, const NamespaceConfig& cfg) {
  std::lock_guard lock(mu_);
  auto it = spaces_.find(id);
  if (it != spaces_.end()) return it->second;
  auto ns = std::make_shared<Namespace>(std::string(id), cfg, seams_);
  ns->set_persistence(persist_);
  ns->queue_budget()->parent = queues_;  // before anyone else sees the namespace
  spaces_.emplace(std::string(id), ns);
  return ns;
}

void Broker::for_each(const std::function<void(Namespace&)>& f) {
  std::vector<std::shared_ptr<Namespace>> all;
  {
    std::lock_guard lock(mu_);
    all.reserve(spaces_.size());
    for (const auto& [id, ns] : spaces_) all.push_back(ns);
  }
  for (const auto& ns : all) f(*ns);
}

std::shared_ptr<Namespace> Broker::find(std::string_view id) {
  std::lock_guard lock(mu_);
  auto it = spaces_.find(id);
  return it == spaces_.end() ? nullptr : it->second;
}

void Broker::housekeeping(int64_t now, WorkerContext& ctx) {
  std::vector<std::shared_ptr<Namespace>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, ns] : spaces_) all.push_back(ns);
  }
  for (auto& ns : all) ns->housekeeping(now, ctx);
}

Totals Broker::totals() {
  Totals t;
  for (auto& s : stats_) {
    t.messages_in += s->messages_in.load(std::memory_order_relaxed);
    t.messages_out += s->messages_out.load(std::memory_order_relaxed);
    t.bytes_in += s->bytes_in.load(std::memory_order_relaxed);
    t.bytes_out += s->bytes_out.load(std::memory_order_relaxed);
    t.dropped += s->dropped.load(std::memory_order_relaxed);
    t.connects += s->connects.load(std::memory_order_relaxed);
    t.protocol_errors += s->protocol_errors.load(std::memory_order_relaxed);
    t.batched_sends += s->batched_sends.load(std::memory_order_relaxed);
  }
  std::vector<std::shared_ptr<Namespace>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, ns] : spaces_) all.push_back(ns);
  }
  for (auto& ns : all) {
    t.sessions += ns->session_count();
    t.subscriptions += ns->subscription_count();
    t.retained += ns->retained_count();
  }
  t.queued = queues_->queued.load(std::memory_order_relaxed);
  t.queued_bytes = queues_->bytes.load(std::memory_order_relaxed);
  t.queue_refused = queues_->refused.load(std::memory_order_relaxed);
  return t;
}

}  // namespace sluice::broker
