// Ons 2019-02-14: OpenOnsService — activates ApsaraMQ (and with it MQTT) for
// the caller's account. Free and idempotent; only the root account or a RAM
// identity allowed ons:OpenOnsService may call it.
#include "api/rpc.hpp"

namespace sluice::api {

namespace {
void OpenOnsService(Call& c) {
  c.authorize("ons:OpenOnsService", c.arn("ons", "*"));
  unwrap(c.iam().activate_service(c.account(), "mq"));
  c.out().field("OrderId", "sluice-" + c.account() + "-mq");
}
}  // namespace

void add_ons_operations(Registry& r) { r.add("Ons", "2019-02-14", "OpenOnsService", OpenOnsService); }

}  // namespace sluice::api
