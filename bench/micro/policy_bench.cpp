// RAM policy evaluation speed (SPEC §3: decisions on every PUBLISH/SUBSCRIBE).
// Targets: a principal with 30 policies / 300 statements decides in <= 1 us
// (compiled set cached); compile + decide ("uncached") as fast as possible;
// an account-sized set of 100,000 statements still decides in <= 10 us.
// Run: build/sluice-microbench --benchmark_filter=Policy --benchmark_repetitions=5
//        --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "iam/policy/policy.hpp"

namespace {

using namespace sluice::iam::policy;

const char* kActions[] = {"mq:PUB", "mq:SUB", "mq:MqttInstanceAccess", "mq:ListMqttInstance", "mq:ApplyToken",
                          "mq:QueryToken", "mq:RevokeToken", "mq:CreateTopic", "mq:DeleteTopic", "mq:ListTopic",
                          "mq:CreateGroupId", "mq:DeleteGroupId", "mq:ListGroupId", "mq:QueryMqttTraceMessage",
                          "mq:SendMqttMessageByConsole", "mq:GetDeviceCredential", "mq:RegisterDeviceCredential",
                          "mq:UnRegisterDeviceCredential", "mq:QuerySessionByClientId", "mq:BatchQuerySessionByClientIds",
                          "mq:OnsInstanceBaseInfo", "mq:MqttMetaData", "mq:UpdateInstance", "mq:GetInstance"};
const char* kWildActions[] = {"mq:List*", "mq:Get*", "mq:Query*", "mq:*Token", "mq:*"};

// A statement in the shape real custom policies have: a few actions, a few topic,
// group or instance resources (some with wildcards), sometimes a condition.
std::string statement(std::mt19937& rng, int i, int n_topics) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::string s = "{\"Sid\":\"s" + std::to_string(i) + "\",\"Effect\":\"" + (pick(10) == 0 ? "Deny" : "Allow") + "\",\"Action\":[";
  int na = 1 + pick(3);
  for (int a = 0; a < na; ++a) {
    if (a) s += ",";
    s += "\"";
    s += pick(8) == 0 ? kWildActions[pick(5)] : kActions[pick(24)];
    s += "\"";
  }
  s += "],\"Resource\":[";
  int nr = 1 + pick(2);
  for (int r = 0; r < nr; ++r) {
    if (r) s += ",";
    std::string inst = "mqtt-local-" + std::to_string(pick(5));
    switch (pick(6)) {
      case 0: s += "\"acs:mq:*:*:groupId/" + inst + "/GID_" + std::to_string(pick(50)) + "\""; break;
      case 1: s += "\"acs:mq:*:*:instance/" + inst + "\""; break;
      case 2: s += "\"acs:mq:*:*:topic/" + inst + "/T" + std::to_string(pick(n_topics)) + "/*\""; break;
      default: s += "\"acs:mq:*:*:topic/" + inst + "/T" + std::to_string(pick(n_topics)) + "\"";
    }
  }
  s += "]";
  if (pick(5) == 0) s += ",\"Condition\":{\"IpAddress\":{\"acs:SourceIp\":[\"10.0.0.0/8\",\"192.168.0.0/16\"]}}";
  return s + "}";
}

std::vector<Grant> principal(int policies, int statements_each, int n_topics, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<Grant> grants;
  for (int p = 0; p < policies; ++p) {
    std::string doc = "{\"Version\":\"1\",\"Statement\":[";
    for (int i = 0; i < statements_each; ++i) {
      if (i) doc += ",";
      doc += statement(rng, i, n_topics);
    }
    doc += "]}";
    ParseResult r = parse(doc, 1 << 20);  // bench sets exceed the per-document limit on purpose
    if (!r.ok()) {
      std::fprintf(stderr, "bench policy does not parse: %s\n", r.error.c_str());
      std::abort();
    }
    Grant g;
    g.policy_name = "P" + std::to_string(p);
    g.policy_type = "Custom";
    g.version_id = "v1";
    g.via = p % 3 == 0 ? "user" : "group:g" + std::to_string(p % 3);
    g.doc = r.doc;
    grants.push_back(std::move(g));
  }
  // The grant the benchmark's request is decided by, at the end (worst case for a scan).
  ParseResult last = parse(R"({"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:PUB","Resource":"acs:mq:*:*:topic/mqtt-local-1/Bench"}]})");
  Grant g;
  g.policy_name = "BenchAllow";
  g.policy_type = "Custom";
  g.version_id = "v1";
  g.doc = last.doc;
  grants.push_back(std::move(g));
  return grants;
}

struct Req {
  std::vector<std::string> resources;
  Context ctx;
  Request r;
  Req(const std::string& topic, const std::string& parent, const char* action) {
    resources = {"acs:mq:local:1234567890123456:topic/mqtt-local-1/" + topic,
                 "acs:mq:local:1234567890123456:topic/mqtt-local-1/" + parent};
    ctx.set("acs:SourceIp", "10.1.2.3");
    ctx.set("mq:ClientId", "GID_a@@@dev-1");
    r.action = action;
    r.resources = resources;
    r.resource_group_id = "rg-default";
    r.context = &ctx;
  }
};

void BM_PolicyDecideCached_300(benchmark::State& state) {
  auto set = CompiledSet::compile(principal(30, 10, 200, 1));
  Req q("Bench/room/1", "Bench", "mq:PUB");
  for (auto _ : state) benchmark::DoNotOptimize(set->evaluate(q.r));
  if (!set->evaluate(q.r).allowed()) state.SkipWithError("expected Allow");
}
BENCHMARK(BM_PolicyDecideCached_300);

void BM_PolicyDecideCachedImplicitDeny_300(benchmark::State& state) {
  auto set = CompiledSet::compile(principal(30, 10, 200, 1));
  Req q("Nobody/room/1", "Nobody", "mq:PUB");
  for (auto _ : state) benchmark::DoNotOptimize(set->evaluate(q.r));
  if (set->evaluate(q.r).effect != Effect::ImplicitDeny) state.SkipWithError("expected implicit deny");
}
BENCHMARK(BM_PolicyDecideCachedImplicitDeny_300);

// Uncached: the caller builds the grant list (copying 31 Grants) and compiles it.
void BM_PolicyCompileAndDecide_300(benchmark::State& state) {
  const std::vector<Grant> grants = principal(30, 10, 200, 1);
  Req q("Bench/room/1", "Bench", "mq:PUB");
  for (auto _ : state) {
    auto set = CompiledSet::compile(grants);
    benchmark::DoNotOptimize(set->evaluate(q.r));
  }
}
BENCHMARK(BM_PolicyCompileAndDecide_300);

void BM_PolicyDecide_100k(benchmark::State& state) {
  // 1,000 grants x 100 statements; topic names spread over 20,000 topics.
  auto set = CompiledSet::compile(principal(1000, 100, 20000, 7));
  Req q("Bench/room/1", "Bench", "mq:PUB");
  for (auto _ : state) benchmark::DoNotOptimize(set->evaluate(q.r));
  if (!set->evaluate(q.r).allowed()) state.SkipWithError("expected Allow");
}
BENCHMARK(BM_PolicyDecide_100k);

void BM_PolicyDecideImplicitDeny_100k(benchmark::State& state) {
  auto set = CompiledSet::compile(principal(1000, 100, 20000, 7));
  Req q("Nobody/room/1", "Nobody", "mq:PUB");
  for (auto _ : state) benchmark::DoNotOptimize(set->evaluate(q.r));
}
BENCHMARK(BM_PolicyDecideImplicitDeny_100k);

void BM_PolicyCompile_100k(benchmark::State& state) {
  const std::vector<Grant> grants = principal(1000, 100, 20000, 7);
  for (auto _ : state) benchmark::DoNotOptimize(CompiledSet::compile(grants));
}
BENCHMARK(BM_PolicyCompile_100k)->Unit(benchmark::kMillisecond);

void BM_PolicyParse(benchmark::State& state) {
  const std::string doc = R"({"Version":"1","Statement":[
    {"Effect":"Allow","Action":["mq:PUB","mq:SUB"],"Resource":["acs:mq:*:*:topic/mqtt-local-a/Sensors","acs:mq:*:*:groupId/mqtt-local-a/GID_sensors"]},
    {"Effect":"Allow","Action":"mq:MqttInstanceAccess","Resource":"acs:mq:*:*:instance/mqtt-local-a","Condition":{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}},
    {"Effect":"Deny","Action":"mq:PUB","Resource":"acs:mq:*:*:topic/mqtt-local-a/Sensors/secret*"}]})";
  for (auto _ : state) benchmark::DoNotOptimize(parse(doc));
}
BENCHMARK(BM_PolicyParse);

}  // namespace

// sluice-microbench is one executable built from every bench/micro/*.cpp and links
// benchmark (not benchmark_main). A weak main lets this file run on its own and
// yields to a strong main if another bench file (or a shared main.cpp) has one.
extern "C++" __attribute__((weak)) int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
