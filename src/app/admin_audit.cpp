#include "app/admin_audit.hpp"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <memory>

#include "api/audit.hpp"
#include "api/signature.hpp"
#include "iam/iam_service.hpp"

namespace sluice::app {

namespace {
struct AuditArgs {
  std::string account, since, until, event, user, out = "-";
  int64_t retention_days = 0;
};
}  // namespace

void add_audit_commands(CLI::App& app, AdminMqHooks h) {
  auto a = std::make_shared<AuditArgs>();
  auto* au = app.add_subcommand("audit", "The audit log (API calls, MQTT authentication failures and denials)");
  au->require_subcommand(1);
  auto* ex = au->add_subcommand("export", "Export events as JSON lines, oldest first");
  ex->add_option("--account", a->account, "Only this account (id or alias); default: all");
  ex->add_option("--since", a->since, "From this UTC time (2024-05-01T00:00:00Z)");
  ex->add_option("--until", a->until, "Up to this UTC time");
  ex->add_option("--event", a->event, "Only this event name (e.g. CreateUser, mqtt.connect.denied)");
  ex->add_option("--user", a->user, "Only this RAM user / role name (root: \"root\")");
  ex->add_option("--out", a->out, "Output file (default: stdout)");
  ex->callback([h, a] {
    api::AuditQuery q;
    if (!a->account.empty()) {
      auto acct = h.resolve_account(a->account);
      if (!acct) {
        std::cerr << "error: " << acct.error().code << ": " << acct.error().message << "\n";
        *h.rc = 1;
        return;
      }
      q.account_id = *acct;
    }
    for (auto [text, dst] : {std::pair{&a->since, &q.start_ms}, std::pair{&a->until, &q.end_ms}}) {
      if (text->empty()) continue;
      auto t = api::parse_timestamp(*text);
      if (!t) {
        std::cerr << "error: \"" << *text << "\" is not a UTC time like 2024-05-01T00:00:00Z\n";
        *h.rc = 2;
        return;
      }
      *dst = *t * 1000;
    }
    if (!a->event.empty()) q.event_name = a->event;
    if (!a->user.empty()) q.user_name = a->user;
    api::AuditLog log(h.store());
    size_t n = 0;
    if (a->out == "-") {
      n = log.export_jsonl(std::cout, q);
    } else {
      std::ofstream f(a->out);
      if (!f) {
        std::cerr << "error: cannot write " << a->out << "\n";
        *h.rc = 1;
        return;
      }
      n = log.export_jsonl(f, q);
    }
    std::cerr << "exported " << n << " events\n";
  });
  auto* pr = au->add_subcommand("prune", "Delete events older than the retention (default 90 days)");
  pr->add_option("--days", a->retention_days, "Retention in days (default 90)");
  pr->callback([h, a] {
    api::AuditOptions o;
    if (a->retention_days > 0) o.retention_days = a->retention_days;
    api::AuditLog log(h.store(), o);
    std::cout << "deleted " << log.prune(h.iam().now() * 1000) << " events\n";
  });
}

}  // namespace sluice::app
