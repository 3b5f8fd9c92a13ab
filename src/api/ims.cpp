// Ims 2019-08-15: the cloud moved some RAM account operations to this product
// (GetAccountSummary, ...); @alicloud/ims20190815 clients call them there. Each
// is the Ram operation itself (the same answer, action and authorization),
// registered under Ims too (issue 21).
#include "api/ram_internal.hpp"

namespace sluice::api {

void add_ims_operations(Registry& r) {
  for (const char* action : {"GetAccountSummary"}) {
    const Operation* op = r.find(ram::kVersion, action);
    if (op) r.add("Ims", "2019-08-15", action, op->fn);
  }
}

}  // namespace sluice::api
