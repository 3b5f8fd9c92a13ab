#pragma once
// One call to get the identity stack from a data directory:
//
//   auto id = sluice::iam::open_identity(cfg.data_dir);
//   if (!id) { log(id.error().message); return 1; }   // e.g. wrong master key
//   id->iam->create_account(...);                      // operations
//   id->authorizer->decide(principal, "mq:PUB", resources, rg, &ctx);
//
// The store's single SQLite connection is shared: other layers that keep their
// own tables in it (mq) lock store->mutex() around every use.
#include <memory>
#include <string>

#include "iam/authorizer.hpp"
#include "iam/errors.hpp"
#include "iam/iam_service.hpp"
#include "store/store.hpp"

namespace sluice::iam {

struct Identity {
  std::shared_ptr<store::Store> store;
  std::unique_ptr<IamService> iam;
  std::unique_ptr<Authorizer> authorizer;  // refers to *iam: keep them together
};

// Opens (creating on first start) <data_dir>/sluice.db, or the PostgreSQL
// store_options.postgres names, and the master key, and
// migrates the identity tables. Error "StoreUnavailable" (500) with the store's
// message when it cannot (also for a schema newer than this binary).
Result<Identity> open_identity(const std::string& data_dir, const Limits& limits = {},
                               const store::StoreOptions& store_options = {});

}  // namespace sluice::iam
