#pragma once
// `sluice admin`: the operator command line over the data directory (accounts,
// activation, users, keys, groups, policies, resource groups, grants, and a
// policy simulator). Works directly on the store, with the server stopped or
// running: SQLite (WAL) serializes the writers, and a running server notices
// identity changes made here within about 200 ms (the store's change feed:
// SQLite's data_version and meta.iam_version), so they are in force within a second.
namespace sluice::app {

// argv[0] is "admin". Returns the process exit code: 0 ok, 1 error, 2 usage.
int admin_main(int argc, char** argv);

}  // namespace sluice::app
