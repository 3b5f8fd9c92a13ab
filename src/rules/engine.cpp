#include "rules/engine.hpp"

#include <openssl/rand.h>

#include <chrono>

#include "broker/broker.hpp"
#include "common/log.hpp"
#include "mq/mq_service.hpp"
#include "mqtt/topic.hpp"
#include "rules/dead_letters.hpp"
#include "rules/source.hpp"
#include "rules/source_filter.hpp"
#include "rules/status_event.hpp"

namespace sluice::rules {

// The observer of one namespace: its outflow and status rules, fixed for the
// observer's life (a change of rules installs a new observer).
class NamespaceRules final : public broker::Observer {
 public:
  NamespaceRules(RulesEngine& engine, std::string id, std::shared_ptr<std::atomic<size_t>> alive)
      : engine_(engine), id_(std::move(id)), alive_(std::move(alive)) {
    alive_->fetch_add(1);
  }
  ~NamespaceRules() override { alive_->fetch_sub(1); }  // touches no engine: it may be gone
  std::vector<std::shared_ptr<RuleRunner>> outflow, status;
  struct Filter {
    SourceFilter filter;
    RuleRunner* runner;
  };
  std::vector<Filter> filters;  // outflow rules' SourceTopic, read without the runner's lock

  void published(broker::Namespace&, const broker::MessagePtr& m, broker::WorkerContext& ctx) override {
    for (const auto& f : filters) {
      if (!f.filter.matches(m->topic)) continue;
      const uint64_t t = f.runner->enqueue(m);
      // The publisher's PUBACK / PUBREC waits until the entry is durable.
      if (t != 0 && m->qos > 0) ctx.note_ticket(t);
    }
  }

  void client_event(broker::Namespace&, broker::ClientEvent e, std::string_view client_id, std::string_view peer,
                    uint64_t channel) override {
    if (status.empty()) return;
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    auto m = std::make_shared<broker::Message>();
    m->topic = std::string("$status/") + event_type_name(e);
    m->qos = 1;
    // The sequence is taken and the event queued under one lock: every status
    // rule gets the events in sequence order, whichever loops they came from.
    std::lock_guard lk(order_mu_);
    m->payload = status_event_json(id_, e, client_id, channel_id(engine_.boot_nonce(), channel), peer, now,
                                   engine_.next_event_seq());
    for (const auto& r : status) r->enqueue(m);
  }

 private:
  RulesEngine& engine_;
  std::string id_;
  std::shared_ptr<std::atomic<size_t>> alive_;
  std::mutex order_mu_;
};

namespace {
uint64_t random64() {
  uint64_t v = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) v = static_cast<uint64_t>(broker::wall_ms());
  return v;
}
}  // namespace

RulesEngine::RulesEngine(broker::Broker& broker, EngineOptions opts)
    : broker_(broker),
      opts_(std::move(opts)),
      dead_(std::make_unique<DeadLetters>(opts_.dead_letter_path)),
      boot_nonce_(random64()),
      // Wall ms x 1000: increasing across restarts unless events averaged over 1,000 a ms.
      event_seq_(static_cast<uint64_t>(broker::wall_ms()) * 1000) {}

RulesEngine::~RulesEngine() {
  stop();
  std::lock_guard lk(mu_);
  for (auto& [id, o] : observers_)
    if (auto ns = broker_.find(id)) ns->set_observer(nullptr);
  inflows_.clear();
}

void RulesEngine::recovered(std::vector<broker::RecoveredRuleEntry>&& entries) {
  std::lock_guard lk(mu_);
  for (auto& e : entries) recovered_[e.rule].push_back(Entry{e.seq, std::move(e.message)});
}

void RulesEngine::stop() {
  std::vector<std::shared_ptr<RuleRunner>> all;
  {
    std::lock_guard lk(mu_);
    if (stopped_) return;
    stopped_ = true;
    inflows_.clear();
    for (auto& [k, r] : runners_) all.push_back(r);
    for (auto& r : retired_runners_) all.push_back(r);
  }
  for (auto& r : all) r->stop(false);
}

void RulesEngine::apply(const mq::MqState& s) {
  std::lock_guard lk(mu_);
  if (stopped_) return;
  std::map<std::string, std::shared_ptr<RuleRunner>> next;
  std::map<std::string, std::unique_ptr<InflowSource>> next_inflows;
  std::map<std::string, std::shared_ptr<NamespaceRules>> next_obs;
  for (const auto& [id, st] : s.instances) {
    auto ns = broker_.find(id);
    if (!ns || st.rules.empty()) continue;
    auto obs = std::make_shared<NamespaceRules>(*this, id, observers_alive_);
    for (const auto& rule : st.rules) {
      const std::string key = rule.key();
      if (rule.type == "inflow") {
        auto it = inflows_.find(key);
        auto old = runners_.find(key);  // an inflow keeps no runner
        (void)old;
        if (it != inflows_.end() && it->second && inflow_versions_[key] == rule.updated_ms) {
          next_inflows[key] = std::move(it->second);
          continue;
        }
        try {
          next_inflows[key] = make_inflow_source(rule, opts_.env);
          inflow_versions_[key] = rule.updated_ms;
        } catch (const std::exception& e) {
          log::error("rules: inflow rule {} of {} not started: {}", rule.name, id, e.what());
        }
        continue;
      }
      std::shared_ptr<RuleRunner> runner;
      if (auto it = runners_.find(key); it != runners_.end()) {
        runner = it->second;
        if (runner->rule()->updated_ms != rule.updated_ms) {
          try {
            runner->replace(rule, make_target(rule, opts_.env));
          } catch (const std::exception& e) {
            log::error("rules: rule {} of {}: target not changed: {}", rule.name, id, e.what());
          }
        }
      } else {
        std::unique_ptr<Target> target;
        try {
          target = make_target(rule, opts_.env);
        } catch (const std::exception& e) {
          log::error("rules: rule {} of {} not started: {}", rule.name, id, e.what());
          continue;
        }
        runner = std::make_shared<RuleRunner>(rule, std::move(target), opts_.limits, dead_.get(), ns->persistence());
        if (auto r = recovered_.find(key); r != recovered_.end()) {
          runner->restore(std::move(r->second));
          recovered_.erase(r);
        }
        runner->start();
      }
      next[key] = runner;
      if (rule.type == "outflow") {
        obs->outflow.push_back(runner);
        obs->filters.push_back({SourceFilter(rule.source_topic), runner.get()});
      } else {
        obs->status.push_back(runner);
      }
    }
    if (!obs->outflow.empty() || !obs->status.empty()) next_obs[id] = obs;
  }
  // Observers: installed, replaced or removed; the old ones are freed once
  // every loop has left them.
  std::vector<std::shared_ptr<NamespaceRules>> old;
  for (auto& [id, o] : observers_) {
    if (!next_obs.count(id))
      if (auto ns = broker_.find(id)) ns->set_observer(nullptr);
    old.push_back(o);
  }
  for (auto& [id, o] : next_obs)
    if (auto ns = broker_.find(id)) ns->set_observer(o.get());
  observers_ = std::move(next_obs);
  retire(std::move(old));
  // Rules deleted: their runners stop and drop their backlogs.
  for (auto& [key, r] : runners_) {
    if (next.count(key)) continue;
    r->stop(true);
    retired_runners_.push_back(r);
  }
  // A deleted rule's runner is freed here, once its thread is done and no
  // observer holds it: never by a loop freeing a replaced observer (retire).
  std::erase_if(retired_runners_,
                [](const std::shared_ptr<RuleRunner>& r) { return r->exited() && r.use_count() == 1; });
  runners_ = std::move(next);
  inflows_ = std::move(next_inflows);  // the rest unsubscribe here
  if (!applied_) {
    // Backlogs of rules that no longer exist: forgotten (recorded done).
    applied_ = true;
    for (auto& [key, entries] : recovered_) {
      log::warn("rules: {} backlog entries of a deleted rule ({}) dropped", entries.size(), key);
      broker::Persistence* p = nullptr;
      broker_.for_each([&](broker::Namespace& ns) {
        if (!p) p = ns.persistence();
      });
      if (p)
        for (const auto& e : entries) {
          broker::PersistRecord r{broker::PersistRecord::Kind::RuleDone};
          r.seq = e.seq;
          p->submit(std::move(r));
        }
    }
    recovered_.clear();
  }
}

void RulesEngine::retire(std::vector<std::shared_ptr<NamespaceRules>>&& old) {
  if (old.empty()) return;
  if (!opts_.after_loops) return;  // no loops: nobody can be inside them (freed here)
  // The last loop to get here drops them. An observer holds its rules'
  // runners; a deleted rule's runner is also held by retired_runners_ until
  // no observer does, so a loop never stops a runner or its target here.
  auto bin = std::make_shared<std::vector<std::shared_ptr<NamespaceRules>>>(std::move(old));
  opts_.after_loops([bin] { bin->clear(); });
}

namespace {
std::string label(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

std::string RulesEngine::metrics_text() const {
  std::vector<std::shared_ptr<RuleRunner>> all;
  {
    std::lock_guard lk(mu_);
    for (const auto& [k, r] : runners_) all.push_back(r);
  }
  std::string out =
      "# HELP sluice_rule_backlog Entries waiting for a rule's target.\n# TYPE sluice_rule_backlog gauge\n"
      "# HELP sluice_rule_delivered_total Entries a rule's target has taken.\n# TYPE sluice_rule_delivered_total counter\n"
      "# HELP sluice_rule_overflow_total Entries refused because the rule's backlog was full.\n"
      "# TYPE sluice_rule_overflow_total counter\n"
      "# HELP sluice_rule_retries_total Failed deliveries retried.\n# TYPE sluice_rule_retries_total counter\n"
      "# HELP sluice_rule_dead_letter_total Entries the target refused for good (dead-letter file).\n"
      "# TYPE sluice_rule_dead_letter_total counter\n"
      "# HELP sluice_rule_observers Namespaces' rule observers alive (installed, or replaced and not yet freed).\n"
      "# TYPE sluice_rule_observers gauge\n"
      "sluice_rule_observers " + std::to_string(observers_alive()) + "\n";
  for (const auto& r : all) {
    auto rule = r->rule();
    const RunnerStats s = r->stats();
    const std::string l = "{instance=\"" + label(rule->instance_id) + "\",rule=\"" + label(rule->name) + "\",type=\"" +
                          rule->type + "\",target=\"" + rule->target_type + "\"}";
    out += "sluice_rule_backlog" + l + " " + std::to_string(s.backlog) + "\n";
    out += "sluice_rule_delivered_total" + l + " " + std::to_string(s.delivered) + "\n";
    out += "sluice_rule_overflow_total" + l + " " + std::to_string(s.overflow) + "\n";
    out += "sluice_rule_retries_total" + l + " " + std::to_string(s.retries) + "\n";
    out += "sluice_rule_dead_letter_total" + l + " " + std::to_string(s.dead_lettered) + "\n";
  }
  return out;
}

bool RulesEngine::stats(const std::string& instance, const std::string& name, RunnerStats& out) const {
  std::lock_guard lk(mu_);
  for (const auto& [k, r] : runners_) {
    auto rule = r->rule();
    if (rule->instance_id == instance && rule->name == name) {
      out = r->stats();
      return true;
    }
  }
  return false;
}

}  // namespace sluice::rules
