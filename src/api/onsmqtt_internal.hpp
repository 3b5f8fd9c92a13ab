#pragma once
// What the OnsMqtt 2020-04-20 files share: the service check, the
// authorization prologue every operation runs, and each family's registration
// (onsmqtt.cpp calls them all from add_onsmqtt_operations). One file per family
// of operations, as in src/iam.
#include <initializer_list>
#include <string>
#include <vector>

#include "api/rpc.hpp"

#include "mq/model.hpp"

namespace sluice::mq {
class MqService;
}

namespace sluice::api::onsmqtt {

inline constexpr const char* kVersion = "2020-04-20";

// The account has activated the service (else Forbidden.ServiceNotActivated) and
// the MQTT service runs here (else ServiceUnavailable).
mq::MqService& mqs(Call& c);

// acs:mq:*:<account>:instance/<id>
std::string inst_arn(Call& c, const std::string& id);

// mq:MqttInstanceAccess (or mq:OnsInstanceBaseInfo) on the instance, then
// mq:<op> on `resources` (default: the instance).
void authz(Call& c, const std::string& op, const std::string& inst, std::vector<std::string> resources = {});

// The prologue of most instance operations: the service is active, InstanceId is
// given, and the caller may perform `op` on that instance.
struct InstanceOp {
  mq::MqService& m;
  std::string id;
};
InstanceOp instance_op(Call& c, const char* op);

// A topic is authorized on itself and on its parent (SPEC §4).
std::vector<std::string> topic_arns(Call& c, const std::string& inst, const std::string& topic);

// The cloud's success envelope (issue 21), in the two shapes its response models
// use: numbers and booleans ("Code":200, "Success":true) for the custom-auth and
// connection operations, strings ("Code":"200", "Success":"true") for
// ListInstances and ListTagResources. Both add "Message".
void ok_numeric(Call& c, const char* message = "operation success.");
void ok_text(Call& c, const char* message = "operation success.");

// The cloud's JSON form of tags (`Tags=[{"key":"k","value":"v"}]`, as the current
// SDK sends on CreateGroupId, ListGroupId and ListInstances); "Key"/"Value" and
// "TagKey"/"TagValue" are accepted too. A malformed value is
// InvalidParameter.Tags. Absent: empty.
std::vector<mq::Tag> json_tags(Call& c, const char* name = "Tags");

// Registers OnsMqtt operations by name.
struct NamedOp {
  const char* name;
  OpFn fn;
};
void add(Registry& r, std::initializer_list<NamedOp> ops);

// One per file.
void add_instance_operations(Registry& r);     // onsmqtt_instances.cpp: instances, tags, the Overview's metadata
void add_topic_operations(Registry& r);        // onsmqtt_topics.cpp: topics, group ids, SendMessage
void add_token_operations(Registry& r);        // onsmqtt_tokens.cpp
void add_device_operations(Registry& r);       // onsmqtt_devices.cpp: device credentials
void add_session_operations(Registry& r);      // onsmqtt_sessions.cpp: online status, closing connections
void add_trace_operations(Registry& r);        // onsmqtt_traces.cpp: device and message traces
void add_custom_auth_operations(Registry& r);  // onsmqtt_custom_auth.cpp: identities, permissions, blacklist
void add_certificate_operations(Registry& r);  // onsmqtt_certs.cpp: CA and device certificates (issue 18)
void add_rule_operations(Registry& r);         // onsmqtt_rules.cpp: data rules (issue 19)

}  // namespace sluice::api::onsmqtt
