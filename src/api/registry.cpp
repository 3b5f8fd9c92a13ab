// The registry of operations: every product file adds its own (add_*_operations),
// and the endpoint finds them by version and action, or by product (the console).
#include "api/rpc.hpp"

namespace sluice::api {

void Registry::add(std::string product, std::string version, std::string action, OpFn fn) {
  auto [v, fresh] = ops_.try_emplace(version);
  if (fresh) products_.emplace_back(product, version);
  auto& m = v->second;
  std::string a = action;
  const ParameterContract* contract = parameter_contract(product, action);
  m[a] = Operation{std::move(product), std::move(version), std::move(action), fn, contract};
}

const Operation* Registry::find(std::string_view version, std::string_view action) const {
  auto v = ops_.find(version);
  if (v == ops_.end()) return nullptr;
  auto a = v->second.find(action);
  return a == v->second.end() ? nullptr : &a->second;
}

const Operation* Registry::find_by_product(std::string_view product, std::string_view action) const {
  for (const auto& [_, m] : ops_) {
    auto a = m.find(action);
    if (a != m.end() && a->second.product == product) return &a->second;
  }
  return nullptr;
}

bool Registry::knows_version(std::string_view version) const { return ops_.find(version) != ops_.end(); }

std::string Registry::product_of(std::string_view version) const {
  auto v = ops_.find(version);
  return v == ops_.end() || v->second.empty() ? std::string() : v->second.begin()->second.product;
}

std::vector<const Operation*> Registry::all() const {
  std::vector<const Operation*> out;
  for (const auto& [_, m] : ops_)
    for (const auto& [__, op] : m) out.push_back(&op);
  return out;
}

const Registry& all_operations() {
  static const Registry r = [] {
    Registry x;
    add_ram_operations(x);
    add_sts_operations(x);
    add_resourcemanager_operations(x);
    add_ons_operations(x);
    add_actiontrail_operations(x);
    add_onsmqtt_operations(x);
    add_ims_operations(x);  // after Ram: it serves some of Ram's operations
    return x;
  }();
  return r;
}

}  // namespace sluice::api
