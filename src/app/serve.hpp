#pragma once
#include "app/config.hpp"

namespace sluice::app {

// Runs the server until SIGTERM or SIGINT. Returns the process exit code.
int serve(Config cfg);

}  // namespace sluice::app
