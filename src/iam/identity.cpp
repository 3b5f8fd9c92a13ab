#include "iam/identity.hpp"

namespace sluice::iam {

Result<Identity> open_identity(const std::string& data_dir, const Limits& limits,
                               const store::StoreOptions& store_options) {
  auto r = store::Store::open(data_dir, store_options);
  if (!r.store) return Error{"StoreUnavailable", 500, r.error};
  Identity id;
  id.store = std::shared_ptr<store::Store>(std::move(r.store));
  try {  // migrates the identity tables: refuses a schema newer than this binary
    id.iam = std::make_unique<IamService>(id.store, limits);
  } catch (const std::exception& e) {
    return Error{"StoreUnavailable", 500, e.what()};
  }
  id.authorizer = std::make_unique<Authorizer>(*id.iam);
  return id;
}

}  // namespace sluice::iam
