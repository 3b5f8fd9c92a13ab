#pragma once
// `sluice admin audit export`: the audit log as JSON lines. Hooked from admin.cpp.
#include "app/admin_mq.hpp"

namespace sluice::app {

void add_audit_commands(CLI::App& app, AdminMqHooks hooks);

}  // namespace sluice::app
