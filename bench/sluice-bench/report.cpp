#include "report.hpp"

#include <cstdio>

namespace sbench {

namespace {
double us(uint64_t ns) { return double(ns) / 1000.0; }
}

void print_pubsub(const Options& opt, const PubSubTotals& t, const Histogram& h) {
  const double rate = t.seconds > 0 ? double(t.window_delivered) / t.seconds : 0;
  const double pub_rate = t.seconds > 0 ? double(t.window_sent) / t.seconds : 0;
  std::printf(
      "RESULT scenario=%s qos=%d protocol=%d payload=%zu pubs=%d subs=%d threads=%d mode=%s target_rate=%.0f "
      "sent=%llu delivered=%llu expected=%llu lost=%llu dup=%llu stray=%llu rejected=%llu stalls=%llu "
      "seconds=%.3f rate=%.0f pub_rate=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f "
      "tool_cpu_pct=%.1f",
      opt.scenario.c_str(), opt.qos, opt.protocol, opt.payload, t.pubs, t.subs, opt.threads,
      opt.rate > 0 ? "rate" : "closed", opt.rate, (unsigned long long)t.sent, (unsigned long long)t.delivered,
      (unsigned long long)t.expected, (unsigned long long)t.lost, (unsigned long long)t.dup,
      (unsigned long long)t.stray, (unsigned long long)t.rejected, (unsigned long long)t.stalls, t.seconds, rate,
      pub_rate, us(h.quantile(0.5)), us(h.quantile(0.99)), us(h.quantile(0.999)), us(h.max()), t.tool_cpu_pct);
  if (t.broker_cpu_s) {
    double per_msg = t.window_delivered ? *t.broker_cpu_s * 1e6 / double(t.window_delivered) : 0;
    std::printf(" broker_cpu_s=%.3f broker_cpu_pct=%.1f broker_us_per_msg=%.3f", *t.broker_cpu_s,
                t.seconds > 0 ? 100.0 * *t.broker_cpu_s / t.seconds : 0.0, per_msg);
  }
  std::printf(" failed=%d\n", t.failed);
  if (opt.quiet) {
    if (!t.error.empty()) std::fprintf(stderr, "sluice-bench: %s\n", t.error.c_str());
    return;
  }
  std::printf("  %s QoS %d v%d, %d publisher(s) -> %d subscriber(s), %zu-byte payloads, %s\n",
              opt.scenario.c_str(), opt.qos, opt.protocol, t.pubs, t.subs, opt.payload,
              opt.rate > 0 ? ("paced at " + std::to_string(int64_t(opt.rate)) + " publishes/s").c_str()
                           : ("closed loop, window " + std::to_string(opt.window)).c_str());
  std::printf("  delivered %.0f msg/s over %.2f s (publishes %.0f/s); latency p50 %.1f us, p99 %.1f us, "
              "p99.9 %.1f us, max %.1f us\n",
              rate, t.seconds, pub_rate, us(h.quantile(0.5)), us(h.quantile(0.99)), us(h.quantile(0.999)),
              us(h.max()));
  std::printf("  sent %llu, delivered %llu of %llu expected: lost %llu, duplicates %llu%s\n",
              (unsigned long long)t.sent, (unsigned long long)t.delivered, (unsigned long long)t.expected,
              (unsigned long long)t.lost, (unsigned long long)t.dup,
              opt.qos > 0 && t.lost > 0 ? "  <-- QoS >= 1 messages lost" : "");
  if (t.stalls) std::printf("  %llu closed-loop stall(s): deliveries stopped for 200 ms and were written off\n",
                            (unsigned long long)t.stalls);
  std::printf("  load tool CPU %.0f%% of one core", t.tool_cpu_pct);
  if (t.broker_cpu_s && t.window_delivered)
    std::printf("; broker CPU %.0f%%, %.3f us per delivered message", 100.0 * *t.broker_cpu_s / t.seconds,
                *t.broker_cpu_s * 1e6 / double(t.window_delivered));
  std::printf("\n");
  if (!t.error.empty()) std::printf("  error: %s\n", t.error.c_str());
}

void print_conns(const Options& opt, const ConnTotals& t, const Histogram& h) {
  std::printf("RESULT scenario=%s protocol=%d target=%d ok=%d failed=%d seconds=%.3f", opt.scenario.c_str(),
              opt.protocol, t.target, t.ok, t.failed, t.seconds);
  if (opt.scenario == "connrate")
    std::printf(" rate=%.0f p50_us=%.1f p99_us=%.1f", t.seconds > 0 ? t.ok / t.seconds : 0.0,
                us(h.quantile(0.5)), us(h.quantile(0.99)));
  std::printf(" tool_cpu_pct=%.1f", t.tool_cpu_pct);
  if (t.rss_before_kb && t.rss_after_kb) {
    double per = t.ok ? (double(*t.rss_after_kb) - double(*t.rss_before_kb)) * 1024.0 / t.ok : 0;
    std::printf(" rss_before_kb=%llu rss_kb=%llu rss_per_conn_bytes=%.0f", (unsigned long long)*t.rss_before_kb,
                (unsigned long long)*t.rss_after_kb, per);
  }
  std::printf("\n");
  if (opt.quiet) {
    if (!t.error.empty()) std::fprintf(stderr, "sluice-bench: first error: %s\n", t.error.c_str());
    return;
  }
  if (opt.scenario == "connrate")
    std::printf("  %d connect/CONNACK/disconnect cycles in %.2f s: %.0f/s (handshake p50 %.1f us, p99 %.1f us), "
                "%d failed\n",
                t.ok, t.seconds, t.seconds > 0 ? t.ok / t.seconds : 0.0, us(h.quantile(0.5)), us(h.quantile(0.99)),
                t.failed);
  else
    std::printf("  %d of %d idle connections established in %.2f s, %d failed\n", t.ok, t.target, t.seconds,
                t.failed);
  if (t.rss_before_kb && t.rss_after_kb)
    std::printf("  broker RSS %llu KiB -> %llu KiB\n", (unsigned long long)*t.rss_before_kb,
                (unsigned long long)*t.rss_after_kb);
  if (!t.error.empty()) std::printf("  first error: %s\n", t.error.c_str());
}

}  // namespace sbench
