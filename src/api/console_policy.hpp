#pragma once
// Policy validation for the console's editor: the server's own parser
// (iam::policy::parse), its error placed at a line and column of the text.
#include <string>
#include <string_view>
#include <vector>

namespace sluice::api {

struct PolicyProblem {
  std::string message;
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in characters (UTF-8 code points)
};

// nullopt-like: empty message when the document is valid.
PolicyProblem check_policy_document(std::string_view document);
// Actions of a known service (mq, ram, ...) that the server does not know, each
// placed at its first mention: a valid document's likely typos (mq:MqttMetaDta).
std::vector<PolicyProblem> unknown_action_warnings(std::string_view document);
// {"valid":true[,"warnings":[...]]} or {"valid":false,"errors":[{"message","line","column"}]}
std::string validate_policy_json(std::string_view document);

}  // namespace sluice::api
