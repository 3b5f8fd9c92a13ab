#include "pubsub.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "clock.hpp"
#include "proc_stats.hpp"
#include "pubsub_worker.hpp"
#include "report.hpp"

namespace sbench {

namespace {
// The broker's CPU seconds, and those of --also-pid (a cluster's other nodes).
std::optional<double> brokers_cpu_seconds(const Options& opt) {
  auto total = process_cpu_seconds(opt.broker_pid);
  for (int pid : opt.more_pids) {
    auto more = process_cpu_seconds(pid);
    if (!total || !more) return std::nullopt;
    *total += *more;
  }
  return total;
}
}  // namespace

namespace {

void sleep_until_ns(int64_t t) {
  int64_t d = t - now_ns();
  if (d > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(d));
}

}  // namespace

int run_pubsub(const Options& opt) {
  Plan plan;
  if (opt.scenario == "fanin") {
    plan.npubs = opt.pubs ? opt.pubs : 4;
    plan.nsubs = 1;
    plan.fan = 1;
  } else if (opt.scenario == "fanout") {
    plan.npubs = 1;
    plan.nsubs = opt.subs ? opt.subs : 100;
    plan.fan = plan.nsubs;
  } else {  // pairs
    plan.npubs = plan.nsubs = opt.pubs ? opt.pubs : 10;
    plan.fan = 1;
    plan.pairs = true;
  }
  Shared shared(opt, plan);
  const int nthreads = std::max(1, opt.threads);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < nthreads; ++t) {
    workers.push_back(std::make_unique<Worker>(shared, t));
    shared.loops.push_back(&workers.back()->loop);
  }
  // Round-robin over threads, subscribers then publishers, so each thread gets a share of both.
  int slot = 0;
  for (int i = 0; i < plan.nsubs; ++i) workers[size_t(slot++ % nthreads)]->add_sub(i);
  for (int i = 0; i < plan.npubs; ++i) workers[size_t(slot++ % nthreads)]->add_pub(i);

  std::vector<std::thread> threads;
  for (auto& w : workers) threads.emplace_back([&w] { w->run(); });

  auto stop = [&](int code) {
    shared.finishing.store(true);
    shared.done.store(true);
    for (auto& t : threads) t.join();
    return code;
  };

  // Setup: every connection CONNACKed, every subscription SUBACKed.
  const int want = plan.npubs + plan.nsubs;
  int64_t setup_deadline = now_ns() + 15 * kNsPerSec;
  while (shared.ready.load() < want && shared.failed.load() == 0 && now_ns() < setup_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (shared.ready.load() < want) {
    std::fprintf(stderr, "sluice-bench: setup failed: %d of %d connections ready: %s\n", shared.ready.load(),
                 want, shared.first_error.empty() ? "timed out" : shared.first_error.c_str());
    return stop(1);
  }

  const int64_t start = now_ns() + kNsPerMs;
  const bool by_count = opt.count > 0;
  const int64_t warm = by_count ? 0 : int64_t(opt.warmup * 1e9);
  shared.window_start.store(start + warm);
  shared.window_end.store(by_count ? kNever : start + warm + int64_t(opt.duration * 1e9));
  shared.start_ns.store(start, std::memory_order_release);

  sleep_until_ns(start + warm);
  const auto broker_cpu0 = opt.broker_pid ? brokers_cpu_seconds(opt) : std::nullopt;
  const double self_cpu0 = self_cpu_seconds();
  const int64_t t0 = now_ns();
  if (by_count) {
    // Until every publish is out (bounded by --duration as a safety net).
    int64_t deadline = start + int64_t(std::max(opt.duration, 1.0) * 1e9);
    while (shared.sent.load() < opt.count && shared.failed.load() == 0 && now_ns() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } else {
    const int64_t end = shared.window_end.load();
    while (now_ns() < end && shared.failed.load() == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(50, std::max<int64_t>(0, (end - now_ns()) / kNsPerMs))));
  }
  shared.stop_publishing.store(true);
  // In count mode the window closes when the last delivery arrives (after the drain).
  if (!by_count) shared.window_end.store(now_ns());
  const int64_t t1_pub = now_ns();
  const auto broker_cpu1 = (opt.broker_pid && !by_count) ? brokers_cpu_seconds(opt) : std::nullopt;
  const double self_cpu1 = self_cpu_seconds();

  // Drain: QoS >= 1 until everything arrived; QoS 0 until nothing moves for 500 ms.
  const int64_t drain_deadline = now_ns() + int64_t(opt.drain_timeout * 1e9);
  uint64_t last = shared.total_delivered();
  int64_t last_progress = now_ns();
  for (;;) {
    uint64_t expected = shared.sent.load() * uint64_t(plan.fan);
    uint64_t got = shared.total_delivered();
    int64_t now = now_ns();
    if (got >= expected || now >= drain_deadline || shared.failed.load() > 0) break;
    if (got != last) {
      last = got;
      last_progress = now;
    } else if (opt.qos == 0 && now - last_progress > 500 * kNsPerMs) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int64_t t1 = t1_pub;
  std::optional<double> broker_cpu_end = broker_cpu1;
  if (by_count) {
    t1 = now_ns();
    shared.window_end.store(t1);
    if (opt.broker_pid) broker_cpu_end = brokers_cpu_seconds(opt);
  }
  stop(0);

  Histogram hist;
  PubSubTotals tot;
  for (auto& w : workers) {
    hist.merge(w->hist);
    tot.window_delivered += w->window_delivered;
    tot.window_sent += w->window_sent;
    tot.dup += w->dup;
    tot.stray += w->stray;
    tot.stalls += w->stalls;
    tot.rejected += w->rejected;
  }
  tot.sent = shared.sent.load();
  tot.expected = tot.sent * uint64_t(plan.fan);
  tot.delivered = shared.total_delivered();
  tot.lost = tot.expected > tot.delivered ? tot.expected - tot.delivered : 0;
  tot.seconds = double(t1 - t0) / 1e9;
  const double pub_seconds = double(t1_pub - t0) / 1e9;
  tot.tool_cpu_pct = pub_seconds > 0.01 ? 100.0 * (self_cpu1 - self_cpu0) / pub_seconds : 0.0;
  if (broker_cpu0 && broker_cpu_end) tot.broker_cpu_s = *broker_cpu_end - *broker_cpu0;
  tot.pubs = plan.npubs;
  tot.subs = plan.nsubs;
  tot.failed = shared.failed.load();
  tot.error = shared.first_error;
  print_pubsub(opt, tot, hist);

  if (tot.failed > 0) return 1;
  if (opt.qos > 0 && tot.lost > 0) return 2;
  return 0;
}

}  // namespace sbench
