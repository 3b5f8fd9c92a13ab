#pragma once
// `sluice admin`: the operator command line over the data directory (accounts,
// activation, users, keys, groups, policies, resource groups, grants, and a
// policy simulator). Works directly on the store; run it with the server
// stopped or alongside it (SQLite WAL serializes writers; the running server
// sees changes on its next read after a restart of its caches — see docs).
namespace sluice::app {

// argv[0] is "admin". Returns the process exit code: 0 ok, 1 error, 2 usage.
int admin_main(int argc, char** argv);

}  // namespace sluice::app
