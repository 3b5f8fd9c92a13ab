// Differential test: the indexed CompiledSet against the plain reference evaluator
// (tests/iam/reference_evaluator.hpp) on random policies and requests. Both must
// agree on the effect AND on the deciding (grant, statement).
//
// SLUICE_DIFF_CASES sets the number of requests (default 100,000);
// SLUICE_DIFF_SEED the seed (default fixed, so CI is reproducible).
#include <chrono>
#include <cstdlib>

#include "../../../tests/iam/policy_generator.hpp"
#include "../../../tests/iam/reference_evaluator.hpp"
#include "iam/policy/test_util.hpp"

namespace sluice::iam::policy {
namespace {

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

TEST(Differential, IndexedEvaluatorAgreesWithReference) {
  const uint64_t cases = env_or("SLUICE_DIFF_CASES", 100000);
  const uint64_t seed = env_or("SLUICE_DIFF_SEED", 20261128);
  gen::Gen g(seed);
  uint64_t done = 0, failures = 0;
  uint64_t by_effect[3] = {0, 0, 0};
  auto t0 = std::chrono::steady_clock::now();
  while (done < cases) {
    // One principal: 1..8 grants of 1..6 statements, some scoped to a resource group.
    std::vector<Grant> grants;
    std::vector<reference::RefGrant> ref;
    std::vector<std::string> texts;
    size_t ngrants = 1 + g.below(8);
    for (size_t i = 0; i < ngrants; ++i) {
      std::string text = g.document(6);
      ParseResult pr = parse(text);
      ASSERT_TRUE(pr.ok()) << pr.error << "\n" << text;
      Grant gr;
      gr.policy_name = "P" + std::to_string(i);
      gr.policy_type = "Custom";
      gr.version_id = "v1";
      gr.via = "user";
      bool scoped = g.chance(25);
      if (scoped) gr.scope = testing::rg_scope(g.chance(50) ? "rg-1" : "rg-2");
      gr.doc = pr.doc;
      ref.push_back(reference::ref_load(text, scoped, gr.scope.resource_group_id));
      grants.push_back(std::move(gr));
      texts.push_back(std::move(text));
    }
    // Both paths against the reference: the index, and the plain scan a fresh small set uses.
    auto indexed = CompiledSet::compile(grants, CompiledSet::Indexing::Eager);
    auto scanned = CompiledSet::compile(grants, CompiledSet::Indexing::Never);
    // Several requests per set: compiling is not what is under test.
    for (int q = 0; q < 40 && done < cases; ++q, ++done) {
      std::string action = g.request_action();
      std::vector<std::string> resources = g.request_resources();
      std::string rg = g.request_rg();
      auto kv = g.context();
      Context ctx;
      for (const auto& [k, v] : kv) ctx.set(k, v);
      Request r;
      r.action = action;
      r.resources = resources;
      r.resource_group_id = rg;
      r.context = g.chance(90) ? &ctx : nullptr;
      Decision d = indexed->evaluate(r);
      Decision s = scanned->evaluate(r);
      reference::RefDecision want =
          reference::ref_decide(ref, action, resources, rg, r.context ? kv : reference::RefContext{});
      ++by_effect[want.effect];
      auto agrees = [&](const Decision& x) {
        return static_cast<int>(x.effect) == want.effect && x.grant_index == want.grant && x.statement_index == want.statement;
      };
      if (!agrees(s)) d = s;  // report the scan's answer when it is the one that differs
      bool same = agrees(d) && agrees(s);
      if (!same && ++failures <= 5) {
        std::string all;
        for (size_t i = 0; i < texts.size(); ++i)
          all += "  grant " + std::to_string(i) + " (" + (ref[i].rg_scoped ? ref[i].rg : "Account") + "): " + texts[i] + "\n";
        std::string res;
        for (const auto& x : resources) res += " [" + x + "]";
        std::string c;
        for (const auto& [k, v] : kv) c += " " + k + "=" + v;
        ADD_FAILURE() << "case " << done << " (seed " << seed << "): " << action << " on" << res << " rg=" << rg
                      << " ctx:" << (r.context ? c : " (none)") << "\n  library: effect " << static_cast<int>(d.effect)
                      << " grant " << d.grant_index << " statement " << d.statement_index << "\n  reference: effect "
                      << want.effect << " grant " << want.grant << " statement " << want.statement << "\n" << all;
      }
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("differential: %llu cases in %.1f s (implicit deny %llu, allow %llu, deny %llu), %llu disagreements\n",
              static_cast<unsigned long long>(done), secs, static_cast<unsigned long long>(by_effect[0]),
              static_cast<unsigned long long>(by_effect[1]), static_cast<unsigned long long>(by_effect[2]),
              static_cast<unsigned long long>(failures));
  EXPECT_EQ(failures, 0u);
  // The generator must exercise all three outcomes, or the test proves little.
  EXPECT_GT(by_effect[1], done / 20);
  EXPECT_GT(by_effect[2], done / 20);
  EXPECT_GT(by_effect[0], done / 20);
}

}  // namespace
}  // namespace sluice::iam::policy
