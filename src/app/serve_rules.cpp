#include "app/serve_rules.hpp"

#include <atomic>
#include <functional>

#include "broker/broker.hpp"
#include "broker/namespace.hpp"
#include "mq/mq_service.hpp"
#include "net/server.hpp"
#include "rules/engine.hpp"

namespace sluice::app {

std::shared_ptr<rules::RulesEngine> start_rules(net::Server& server, broker::Broker& broker, mq::MqService& mq,
                                                std::vector<broker::RecoveredRuleEntry> backlog,
                                                const std::string& data_dir, LoopsGate& loops) {
  // A replaced rules observer is freed once every loop has passed a task
  // posted after the swap (none is still inside it).
  rules::EngineOptions eo;
  eo.after_loops = [&server, &loops](std::function<void()> f) {
    std::lock_guard lk(loops.mu);
    const unsigned n = loops.up ? server.workers() : 0;
    if (n == 0) return f();
    auto left = std::make_shared<std::atomic<unsigned>>(n);
    auto done = std::make_shared<std::function<void()>>(std::move(f));
    for (unsigned i = 0; i < n; ++i)
      server.post(i, [left, done] {
        if (left->fetch_sub(1) == 1) (*done)();
      });
  };
  eo.dead_letter_path = data_dir + "/rules-dead-letter.jsonl";
  eo.env.publish = [&server](const std::string& ns, broker::MessagePtr m, unsigned lane) {
    return server.publish_from_outside(ns, std::move(m), "rule", lane);
  };
  // A JetStream inflow acknowledges a message once it is routed and durable.
  eo.env.publish_routed = [&server, &loops](const std::string& ns_id, broker::MessagePtr m, unsigned lane,
                                            std::function<void(uint64_t)> routed) {
    auto ns = server.broker().find(ns_id);
    unsigned n;
    {
      std::lock_guard lk(loops.mu);
      n = loops.up ? server.workers() : 0;
    }
    if (!ns || n == 0) return false;
    if (ns->tracing())
      if (auto t = ns->tracer()) t->published(*m, "rule");
    server.run(lane % n, [ns = std::move(ns), m = std::move(m),
                          routed = std::move(routed)](broker::WorkerContext& ctx) {
      broker::WorkerStats::add(ctx.stats().messages_in);
      const uint64_t before = ctx.ticket();
      ns->publish(m, ctx);
      routed(ctx.ticket() != before ? ctx.ticket() : 0);
    });
    return true;
  };
  eo.env.durable = [&server]() -> uint64_t {
    broker::Persistence* p = server.persistence();
    return p && p->acks_wait() ? p->durable() : UINT64_MAX;
  };
  auto rules_engine = std::make_shared<rules::RulesEngine>(broker, std::move(eo));
  rules_engine->recovered(std::move(backlog));
  mq.on_snapshot([w = std::weak_ptr<rules::RulesEngine>(rules_engine)](const mq::MqState& s) {
    if (auto e = w.lock()) e->apply(s);
  });
  mq.set_rule_status_lookup([w = std::weak_ptr<rules::RulesEngine>(rules_engine)](std::string_view inst,
                                                                                   std::string_view name) {
    mq::RuleStatus st;
    rules::RunnerStats rs;
    if (auto e = w.lock(); e && e->stats(std::string(inst), std::string(name), rs)) {
      st.running = true;
      st.backlog = rs.backlog;
      st.delivered = rs.delivered;
      st.overflow = rs.overflow;
      st.retries = rs.retries;
      st.dead_lettered = rs.dead_lettered;
      st.last_error = rs.last_error;
    }
    return st;
  });
  return rules_engine;
}

}  // namespace sluice::app
