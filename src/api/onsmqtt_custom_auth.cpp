// OnsMqtt custom authentication (the Custom mode): identities, their topic
// permissions, and the connect blacklist.
#include <algorithm>
#include <cstdlib>

#include "api/onsmqtt_internal.hpp"
#include "mq/mq_service.hpp"

namespace sluice::api::onsmqtt {

namespace {

void ok(Call& c) { ok_numeric(c); }
void AddCustomAuthIdentity(Call& c) {
  auto [m, id] = instance_op(c, "AddCustomAuthIdentity");
  unwrap(m.AddCustomAuthIdentity(c.account(), id, c.req("Username"), c.req("IdentityType"),
                                 c.opt("ClientId").value_or(""), c.req("Secret"), c.req("SignMode")));
  ok(c);
}
void UpdateCustomAuthIdentity(Call& c) {
  auto [m, id] = instance_op(c, "UpdateCustomAuthIdentity");
  unwrap(m.UpdateCustomAuthIdentity(c.account(), id, c.req("Username"), c.req("IdentityType"),
                                    c.opt("ClientId").value_or(""), c.req("Secret"), c.req("SignMode")));
  ok(c);
}
void DeleteCustomAuthIdentity(Call& c) {
  auto [m, id] = instance_op(c, "DeleteCustomAuthIdentity");
  unwrap(m.DeleteCustomAuthIdentity(c.account(), id, c.req("Username"), c.req("IdentityType"),
                                    c.opt("ClientId").value_or("")));
  ok(c);
}
template <class T, class W>
void results(Call& c, const std::vector<T>& v, W write_one) {
  auto& w = c.out();
  size_t begin = 0;
  if (auto t = c.opt("NextToken"); t && !t->empty()) begin = std::min(v.size(), static_cast<size_t>(std::strtoull(t->c_str(), nullptr, 10)));
  size_t size = static_cast<size_t>(c.opt_int("Size", 100, 1, 100));
  size_t end = std::min(v.size(), begin + size);
  w.key("Data").begin_object();
  w.key("Results").begin_array();
  for (size_t i = begin; i < end; ++i) {
    w.begin_object();
    write_one(w, v[i]);
    w.end_object();
  }
  w.end_array();
  w.field("NextToken", end < v.size() ? std::to_string(end) : std::string());
  w.end_object();
  ok(c);
}
void QueryCustomAuthIdentity(Call& c) {
  auto [m, id] = instance_op(c, "QueryCustomAuthIdentity");
  auto v = unwrap(m.QueryCustomAuthIdentity(c.account(), id, c.opt("Username").value_or(""),
                                            c.opt("IdentityType").value_or(""), c.opt("ClientId").value_or("")));
  results(c, v, [](JsonWriter& w, const mq::CustomIdentity& i) {
    w.field("InstanceId", i.instance_id);
    w.field("Username", i.username);
    w.field("IdentityType", mq::to_string(i.type));
    w.field("ClientId", i.client_id);
    w.field("SignMode", mq::to_string(i.sign_mode));
  });
}
void AddCustomAuthPermission(Call& c) {
  auto [m, id] = instance_op(c, "AddCustomAuthPermission");
  unwrap(m.AddCustomAuthPermission(c.account(), id, c.req("Identity"), c.req("IdentityType"), c.req("Topic"),
                                   c.req("PermitAction"), c.req("Effect")));
  ok(c);
}
void UpdateCustomAuthPermission(Call& c) {
  auto [m, id] = instance_op(c, "UpdateCustomAuthPermission");
  unwrap(m.UpdateCustomAuthPermission(c.account(), id, c.req("Identity"), c.req("IdentityType"), c.req("Topic"),
                                      c.req("PermitAction"), c.req("Effect")));
  ok(c);
}
void DeleteCustomAuthPermission(Call& c) {
  auto [m, id] = instance_op(c, "DeleteCustomAuthPermission");
  unwrap(m.DeleteCustomAuthPermission(c.account(), id, c.req("Identity"), c.req("IdentityType"), c.req("Topic")));
  ok(c);
}
void QueryCustomAuthPermission(Call& c) {
  auto [m, id] = instance_op(c, "QueryCustomAuthPermission");
  auto v = unwrap(m.QueryCustomAuthPermission(c.account(), id, c.opt("Identity").value_or(""),
                                              c.opt("IdentityType").value_or(""), c.opt("Topic").value_or("")));
  results(c, v, [](JsonWriter& w, const mq::CustomPermission& p) {
    w.field("InstanceId", p.instance_id);
    w.field("Identity", p.identity);
    w.field("IdentityType", mq::to_string(p.identity_type));
    w.field("Topic", p.topic);
    w.field("PermitAction", mq::to_string(p.action));
    w.field("Effect", mq::to_string(p.effect));
  });
}
void AddCustomAuthConnectBlack(Call& c) {
  auto [m, id] = instance_op(c, "AddCustomAuthConnectBlack");
  unwrap(m.AddCustomAuthConnectBlack(c.account(), id, c.req("ClientId")));
  ok(c);
}
void DeleteCustomAuthConnectBlack(Call& c) {
  auto [m, id] = instance_op(c, "DeleteCustomAuthConnectBlack");
  unwrap(m.DeleteCustomAuthConnectBlack(c.account(), id, c.req("ClientId")));
  ok(c);
}
void QueryCustomAuthConnectBlack(Call& c) {
  auto [m, id] = instance_op(c, "QueryCustomAuthConnectBlack");
  auto v = unwrap(m.QueryCustomAuthConnectBlack(c.account(), id, c.opt("ClientId").value_or("")));
  std::string inst = id;
  results(c, v, [&](JsonWriter& w, const std::string& cl) {
    w.field("InstanceId", inst);
    w.field("ClientId", cl);
    w.field("PermitAction", "CONNECT");
    w.field("Effect", "DENY");
  });
}

}  // namespace

void add_custom_auth_operations(Registry& r) {
  add(r, {
      {"AddCustomAuthIdentity", AddCustomAuthIdentity},
      {"UpdateCustomAuthIdentity", UpdateCustomAuthIdentity},
      {"DeleteCustomAuthIdentity", DeleteCustomAuthIdentity},
      {"QueryCustomAuthIdentity", QueryCustomAuthIdentity},
      {"AddCustomAuthPermission", AddCustomAuthPermission},
      {"UpdateCustomAuthPermission", UpdateCustomAuthPermission},
      {"DeleteCustomAuthPermission", DeleteCustomAuthPermission},
      {"QueryCustomAuthPermission", QueryCustomAuthPermission},
      {"AddCustomAuthConnectBlack", AddCustomAuthConnectBlack},
      {"DeleteCustomAuthConnectBlack", DeleteCustomAuthConnectBlack},
      {"QueryCustomAuthConnectBlack", QueryCustomAuthConnectBlack},
  });
}

}  // namespace sluice::api::onsmqtt
