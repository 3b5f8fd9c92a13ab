// OnsMqtt 2020-04-20: the MQTT management operations over mq::MqService.
// (Filled in once src/mq lands; until then the version is unknown here.)
#include "api/rpc.hpp"

namespace sluice::api {

void add_onsmqtt_operations(Registry&) {}

}  // namespace sluice::api
