// GENERATED from system_policies.json (same directory): the file embedded as text so
// the binary needs no data files. After editing the JSON, regenerate (in this directory):
//   python3 -c "s=open('system_policies.json').read();t=open('system_policies_data.cpp').read();a=t.index('R\"json(')+7;b=t.index(')json\"');open('system_policies_data.cpp','w').write(t[:a]+s+t[b:])"
// system_policies_test fails if the two differ.
#include "iam/policy/system_policies.hpp"

namespace sluice::iam::policy {

std::string_view system_policies_json() {
  static constexpr std::string_view kJson = R"json({
  "_about": "Documents of the system policies Sluice ships (read-only). The MQ ones are as the cloud publishes them (the ram:CreateServiceLinkedRole statements are kept for fidelity; Sluice has no service-linked roles, so they never match anything). ReadOnlyAccess is abridged to the read verbs of the services Sluice has. highRisk marks the policies the console must flag.",
  "AdministratorAccess": {"highRisk": true, "description": "Full access to all resources of the account",
    "document": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
  "AliyunRAMFullAccess": {"highRisk": true, "description": "Full access to RAM: users, groups, roles, policies, keys",
    "document": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:*", "Resource": "*"}]}},
  "ReadOnlyAccess": {"highRisk": false, "description": "Read-only access to every service (abridged)",
    "document": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["*:Describe*", "*:List*", "*:Get*", "*:Query*", "*:BatchGet*", "*:BatchQuery*", "*:Lookup*"], "Resource": "*"}]}},
  "AliyunSTSAssumeRoleAccess": {"highRisk": false, "description": "May call STS AssumeRole",
    "document": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}},
  "AliyunMQFullAccess": {"highRisk": false, "description": "Full management of ApsaraMQ (RocketMQ and MQTT)",
    "document": {"Version": "1", "Statement": [
      {"Effect": "Allow", "Action": ["mq:*", "rocketmq:*", "mq-as:*"], "Resource": "*"},
      {"Effect": "Allow", "Action": "ram:CreateServiceLinkedRole", "Resource": "*",
       "Condition": {"StringEquals": {"ram:ServiceName": ["ons.aliyuncs.com", "migration.rmq.aliyuncs.com"]}}}]}},
  "AliyunMQPubOnlyAccess": {"highRisk": false, "description": "Publish through the SDKs on all resources of the account",
    "document": {"Version": "1", "Statement": [
      {"Effect": "Allow", "Action": ["mq:PUB", "mq:OnsInstanceBaseInfo"], "Resource": "*"},
      {"Effect": "Allow", "Action": "ram:CreateServiceLinkedRole", "Resource": "*",
       "Condition": {"StringEquals": {"ram:ServiceName": "ons.aliyuncs.com"}}}]}},
  "AliyunMQSubOnlyAccess": {"highRisk": false, "description": "Subscribe through the SDKs on all resources of the account",
    "document": {"Version": "1", "Statement": [
      {"Effect": "Allow", "Action": ["mq:SUB", "mq:OnsInstanceBaseInfo"], "Resource": "*"},
      {"Effect": "Allow", "Action": "ram:CreateServiceLinkedRole", "Resource": "*",
       "Condition": {"StringEquals": {"ram:ServiceName": "ons.aliyuncs.com"}}}]}},
  "AliyunMQReadOnlyAccess": {"highRisk": false, "description": "Read-only access to ApsaraMQ through the console and API",
    "document": {"Version": "1", "Statement": [{"Effect": "Allow", "Action": [
      "mq:OnsInstanceBaseInfo", "mq:List*", "mq:Query*", "mq:Get*", "mq:Download*", "mq:Dashboard*",
      "rocketmq:List*", "rocketmq:SubmitQuery*", "rocketmq:Get*", "rocketmq:Download*", "mq-as:List*", "mq-as:Get*"], "Resource": "*"}]}}
}
)json";
  return kJson;
}

}  // namespace sluice::iam::policy
