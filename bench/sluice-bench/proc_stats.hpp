#pragma once
// What the tool measures about processes: the broker's CPU time and resident
// memory from /proc (so the figure is exactly the timed window, not startup),
// and the tool's own CPU time (to tell whether the tool or the broker limited a run).
#include <cstdint>
#include <optional>

namespace sbench {

// utime+stime of every thread of pid, in seconds (clock-tick resolution, 10 ms).
std::optional<double> process_cpu_seconds(int pid);
// VmRSS of pid in KiB.
std::optional<uint64_t> process_rss_kb(int pid);
// This process's user+system CPU time in seconds (all threads).
double self_cpu_seconds();
// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
uint64_t raise_nofile_limit();

}  // namespace sbench
