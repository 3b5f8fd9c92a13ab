#pragma once
// Where an inflow rule's messages come from (issue 19): a source subscribes to
// an external system on its own threads and publishes each message into the
// rule's instance on the rule's SourceTopic (a P2P topic reaches one device).
// One class per kind of source, each in its own file.
#include <memory>
#include <string>

#include "mq/rule_model.hpp"
#include "rules/target.hpp"

namespace sluice::rules {

class InflowSource {
 public:
  virtual ~InflowSource() = default;  // unsubscribes
  virtual uint64_t received() const = 0;
  virtual std::string last_error() const = 0;
};

// The source of an inflow rule (TargetType nats: TargetConfig's Url and Subject).
std::unique_ptr<InflowSource> make_inflow_source(const mq::Rule& rule, const TargetEnv& env);

}  // namespace sluice::rules
