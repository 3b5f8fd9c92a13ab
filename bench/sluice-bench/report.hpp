#pragma once
// Output: one machine-readable `RESULT key=value ...` line per run (what
// compare.sh parses), then a short human summary (omitted with --quiet; errors
// then go to stderr). Both on stdout, so `| grep ^RESULT` keeps the data.
#include <cstdint>
#include <optional>
#include <string>

#include "histogram.hpp"
#include "options.hpp"

namespace sbench {

struct PubSubTotals {
  int pubs = 0, subs = 0, failed = 0;
  uint64_t sent = 0, expected = 0, delivered = 0, lost = 0, dup = 0, stray = 0, stalls = 0, rejected = 0;
  uint64_t window_sent = 0, window_delivered = 0;
  double seconds = 0;  // measured window
  double tool_cpu_pct = 0;
  std::optional<double> broker_cpu_s;
  std::string error;
};

void print_pubsub(const Options& opt, const PubSubTotals& t, const Histogram& latency_ns);

struct ConnTotals {
  int target = 0, ok = 0, failed = 0;
  double seconds = 0;          // conns: time to open them; connrate: measured window
  double tool_cpu_pct = 0;
  std::optional<uint64_t> rss_before_kb, rss_after_kb;
  std::string error;
};

void print_conns(const Options& opt, const ConnTotals& t, const Histogram& handshake_ns);

}  // namespace sbench
