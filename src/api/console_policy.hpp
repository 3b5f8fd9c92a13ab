#pragma once
// Policy validation for the console's editor: the server's own parser
// (iam::policy::parse), its error placed at a line and column of the text.
#include <string>
#include <string_view>

namespace sluice::api {

struct PolicyProblem {
  std::string message;
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in characters (UTF-8 code points)
};

// nullopt-like: empty message when the document is valid.
PolicyProblem check_policy_document(std::string_view document);
// {"valid":true} or {"valid":false,"errors":[{"message","line","column"}]}
std::string validate_policy_json(std::string_view document);

}  // namespace sluice::api
