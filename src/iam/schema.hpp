#pragma once
// The identity tables' migration steps (iam/schema.cpp), applied by
// IamService's constructor through the store's runner (store/migrate.hpp).
#include "store/migrate.hpp"

namespace sluice::iam {

const store::Schema& schema();

}  // namespace sluice::iam
