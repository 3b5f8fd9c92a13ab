// placeholder, replaced below
#include <stdexcept>

#include "rules/targets_internal.hpp"

namespace sluice::rules {
std::unique_ptr<Target> make_postgres_target(const mq::Rule&) { throw std::invalid_argument("postgres target: not built yet"); }
}  // namespace sluice::rules
