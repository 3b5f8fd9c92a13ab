#pragma once
// Helpers shared by the policy unit tests (not part of the library: no .cpp).
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "iam/policy/document.hpp"
#include "iam/policy/policy.hpp"

namespace sluice::iam::policy::testing {

inline std::shared_ptr<const Document> must_parse(std::string_view json) {
  ParseResult r = parse(json);
  EXPECT_TRUE(r.ok()) << r.error << "\n" << json;
  return r.doc;
}

inline Grant grant(std::string name, std::string_view json, std::string via = "user", Scope scope = {}) {
  Grant g;
  g.policy_name = std::move(name);
  g.policy_type = "Custom";
  g.version_id = "v1";
  g.scope = std::move(scope);
  g.via = std::move(via);
  g.doc = must_parse(json);
  return g;
}

inline Scope rg_scope(std::string rg) {
  Scope s;
  s.kind = Scope::Kind::ResourceGroup;
  s.resource_group_id = std::move(rg);
  return s;
}

// Evaluates one action on the given resources.
struct Ask {
  std::string action;
  std::vector<std::string> resources;
  std::string rg;
  const Context* ctx = nullptr;
  // Decides on `set`, and checks that the indexed and the scanning paths agree.
  Decision on(const CompiledSet& set) const {
    Request r;
    r.action = action;
    r.resources = resources;
    r.resource_group_id = rg;
    r.context = ctx;
    Decision d = set.evaluate(r);
    for (auto mode : {CompiledSet::Indexing::Eager, CompiledSet::Indexing::Never}) {
      auto other = CompiledSet::compile(set.grants(), mode);
      Decision o = other->evaluate(r);
      EXPECT_EQ(static_cast<int>(o.effect), static_cast<int>(d.effect)) << action;
      EXPECT_EQ(o.grant_index, d.grant_index) << action;
      EXPECT_EQ(o.statement_index, d.statement_index) << action;
      EXPECT_EQ(o.sid, d.sid) << action;
    }
    return d;
  }
};

inline std::shared_ptr<const CompiledSet> compile(std::initializer_list<Grant> gs) {
  return CompiledSet::compile(std::vector<Grant>(gs));
}

}  // namespace sluice::iam::policy::testing
