#pragma once
// `sluice admin store copy`: a single-node store moved into PostgreSQL. Hooked
// from admin.cpp; it opens both stores itself (not the admin's --data-dir one).
#include <CLI/CLI.hpp>

namespace sluice::app {

// Returns the `store` subcommand (its callbacks set rc).
CLI::App* add_store_commands(CLI::App& app, int& rc);

}  // namespace sluice::app
