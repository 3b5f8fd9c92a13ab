#pragma once
// The mq_* tables' migration steps (mq/schema.cpp), applied by MqService's
// constructor through the store's runner (store/migrate.hpp).
#include "store/migrate.hpp"

namespace sluice::mq {

const store::Schema& schema();

}  // namespace sluice::mq
