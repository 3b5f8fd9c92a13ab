#pragma once
// The publish/subscribe scenarios: fanin (N publishers -> 1 subscriber),
// fanout (1 publisher -> M subscribers) and pairs (N one-to-one pairs), in
// closed-loop (max throughput) or fixed-rate mode. Prints the RESULT line and
// a summary; returns the process exit code (0, 1 on failure, 2 on lost QoS >= 1).
#include "options.hpp"

namespace sbench {

int run_pubsub(const Options& opt);

}  // namespace sbench
