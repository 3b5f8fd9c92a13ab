// Parses the embedded system policy list once. A broken embedded document is a
// build defect, not a runtime condition: it aborts loudly at first use (and the
// unit tests catch it first).
#include "iam/policy/system_policies.hpp"

#include <boost/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace sluice::iam::policy {

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "sluice: embedded system_policies.json: %s\n", what.c_str());
  std::abort();
}

std::vector<SystemPolicy> load() {
  namespace json = boost::json;
  json::error_code ec;
  json::value root = json::parse(json::string_view(system_policies_json().data(), system_policies_json().size()), ec);
  if (ec || !root.is_object()) die("not a JSON object");
  std::vector<SystemPolicy> out;
  for (const auto& [name, v] : root.get_object()) {
    if (!name.empty() && name[0] == '_') continue;  // "_about" and other notes
    if (!v.is_object()) die(std::string(name) + " is not an object");
    const json::object& o = v.get_object();
    SystemPolicy p;
    p.name = std::string(name);
    if (const json::value* d = o.if_contains("description"); d && d->is_string()) p.description = std::string(d->get_string());
    if (const json::value* h = o.if_contains("highRisk"); h && h->is_bool()) p.high_risk = h->get_bool();
    const json::value* doc = o.if_contains("document");
    if (!doc) die(p.name + " has no document");
    p.document = json::serialize(*doc);
    ParseResult r = parse(p.document);
    if (!r.ok()) die(p.name + ": " + r.error);
    p.doc = r.doc;
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

std::span<const SystemPolicy> system_policies() {
  static const std::vector<SystemPolicy> all = load();  // thread-safe static init
  return all;
}

const SystemPolicy* find_system_policy(std::string_view name) {
  for (const SystemPolicy& p : system_policies())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace sluice::iam::policy
