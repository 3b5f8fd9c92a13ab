// OnsMqtt tokens (Token authentication mode): apply, query, revoke.
#include "api/onsmqtt_internal.hpp"
#include "mq/mq_service.hpp"

namespace sluice::api::onsmqtt {

namespace {

void ApplyToken(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId");
  auto res = c.req("Resources");
  auto actions = c.req("Actions");
  int64_t expire = c.opt_int("ExpireTime", 0, 1, INT64_MAX);
  if (!c.opt("ExpireTime")) fail("MissingExpireTime", 400, "ExpireTime is mandatory for this action (epoch ms).");
  std::vector<std::string> topics, arns;
  size_t pos = 0;
  while (pos <= res.size()) {
    size_t comma = res.find(',', pos);
    if (comma == std::string::npos) comma = res.size();
    std::string t = res.substr(pos, comma - pos);
    if (!t.empty()) {
      topics.push_back(t);
      for (auto& a : topic_arns(c, id, t)) arns.push_back(std::move(a));
    }
    pos = comma + 1;
  }
  authz(c, "ApplyToken", id, arns.empty() ? std::vector<std::string>{inst_arn(c, id)} : arns);
  c.out().field("Token", unwrap(m.ApplyToken(c.account(), id, topics, actions, expire)));
}
void QueryToken(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), token = c.req("Token");
  authz(c, "QueryToken", id);
  auto q = unwrap(m.QueryToken(c.account(), id, token));
  c.out().field("TokenStatus", q.valid);
}
void RevokeToken(Call& c) {
  auto& m = mqs(c);
  auto id = c.req("InstanceId"), token = c.req("Token");
  authz(c, "RevokeToken", id);
  unwrap(m.RevokeToken(c.account(), id, token));
}

}  // namespace

void add_token_operations(Registry& r) {
  add(r, {
      {"ApplyToken", ApplyToken},
      {"QueryToken", QueryToken},
      {"RevokeToken", RevokeToken},
  });
}

}  // namespace sluice::api::onsmqtt
