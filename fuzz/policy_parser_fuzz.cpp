// libFuzzer target: the RAM policy parser on arbitrary bytes. When a document
// parses, it is compiled (indexed and scanning) and asked a few questions built
// from its own actions and resources; the two evaluation paths must agree, and
// explain() must not fail. Seeds: fuzz/corpus/policy_parser/.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "iam/policy/document.hpp"
#include "iam/policy/policy.hpp"

using namespace sluice::iam::policy;

namespace {

void same(const Decision& a, const Decision& b) {
  if (a.effect != b.effect || a.grant_index != b.grant_index || a.statement_index != b.statement_index) {
    std::fprintf(stderr, "indexed and scanning evaluation disagree\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseResult r = parse(text, 1 << 16);
  if (!r.ok()) {
    if (r.error.rfind("MalformedPolicyDocument: ", 0) != 0) std::abort();  // every error is named
    return 0;
  }
  std::vector<Grant> grants(2);
  grants[0].policy_name = "Fuzz";
  grants[0].doc = r.doc;
  grants[1].policy_name = "FuzzRg";
  grants[1].scope.kind = Scope::Kind::ResourceGroup;
  grants[1].scope.resource_group_id = "rg-1";
  grants[1].doc = r.doc;
  auto indexed = CompiledSet::compile(grants, CompiledSet::Indexing::Eager);
  auto scanned = CompiledSet::compile(grants, CompiledSet::Indexing::Never);

  // Questions: the document's own strings (wildcards and all, taken literally),
  // plus a fixed topic request.
  std::vector<std::string> actions{"mq:PUB"}, resources{"acs:mq:local:1234567890123456:topic/mqtt-local-x/T/a"};
  for (const Statement& st : r.doc->statements) {
    if (actions.size() < 8) actions.insert(actions.end(), st.actions.begin(), st.actions.end());
    if (resources.size() < 8) resources.insert(resources.end(), st.resources.begin(), st.resources.end());
  }
  Context ctx;
  ctx.set("acs:SourceIp", "10.1.2.3");
  ctx.set("acs:CurrentTime", "2026-11-28T01:00:00Z");
  ctx.set("acs:SecureTransport", "true");
  ctx.set("mq:Qos", "1");
  ctx.set("mq:ClientId", "GID_a@@@1");
  for (const Statement& st : r.doc->statements)  // offer each condition's first value
    for (const Condition& c : st.conditions)
      if (!c.values.empty()) ctx.set(c.key, c.values[0].text);
  for (size_t a = 0; a < actions.size() && a < 8; ++a) {
    for (size_t i = 0; i < resources.size() && i < 8; ++i) {
      std::vector<std::string> res{resources[i], resources[(i + 1) % resources.size()]};
      for (const char* rg : {"", "rg-1"}) {
        Request q;
        q.action = actions[a];
        q.resources = res;
        q.resource_group_id = rg;
        q.context = (a + i) % 2 ? &ctx : nullptr;
        Decision d = indexed->evaluate(q);
        same(d, scanned->evaluate(q));
        if (d.explain(indexed->grants()).empty()) std::abort();
      }
    }
  }
  return 0;
}
