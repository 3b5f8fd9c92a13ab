// placeholder, replaced below
#include <stdexcept>

#include "rules/source.hpp"
#include "rules/targets_internal.hpp"

namespace sluice::rules {
std::unique_ptr<Target> make_nats_target(const mq::Rule&) { throw std::invalid_argument("nats target: not built yet"); }
std::unique_ptr<InflowSource> make_inflow_source(const mq::Rule&, const TargetEnv&) {
  throw std::invalid_argument("nats inflow: not built yet");
}
}  // namespace sluice::rules
