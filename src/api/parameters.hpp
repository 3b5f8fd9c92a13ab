#pragma once
// What each operation does with each parameter: the contract the dispatcher
// enforces before an operation runs (issue #14, finding 6).
//
//  - implemented: read and honoured by the operation (and the only names an
//    operation may read: Call refuses to read any other, see call.cpp);
//  - refused: defined by the cloud for this operation but not implemented here,
//    where ignoring it could widen access or change the result. A request that
//    carries one (with a non-empty value) is answered UnsupportedParameter (400)
//    naming it and saying why. A rule may accept one value that is exactly
//    what Sluice always does (CascadingDelete=false);
//  - ignored: defined by the cloud, harmless to ignore here (why says why).
// Any other parameter is not the operation's: refused as well, never ignored.
//
// A parameter's name is its base: "Tag.1.Key" is "Tag". docs/api.yaml carries
// the three lists per operation (x-sluice-parameters); api_doc_test.cpp holds
// the two equal and tests/node/attacks_api.test.mjs holds them against the
// request models of the cloud's SDKs.
#include <string>
#include <string_view>
#include <vector>

namespace sluice::api {

struct ParamRule {
  std::string name;
  std::string why;       // one sentence: why refused, or why ignoring is harmless
  std::string accepted;  // refused rules only: the one value that is accepted ("" = none)
};

struct ParameterContract {
  std::vector<std::string> implemented;
  std::vector<ParamRule> refused;
  std::vector<ParamRule> ignored;

  bool implements(std::string_view name) const;
  const ParamRule* refusal(std::string_view name) const;
  const ParamRule* ignoral(std::string_view name) const;
};

// The contract of one operation, or null when none is declared (the registry
// test fails then; the dispatcher refuses every parameter of such an operation).
const ParameterContract* parameter_contract(std::string_view product, std::string_view action);

// "Tag.1.Key" -> "Tag".
std::string_view parameter_base(std::string_view name);

// The request's own parameters rather than any operation's: Action, Version,
// Format, the V1 signature's, and RegionId (the cloud's SDKs send it with calls
// to regional products; a Sluice deployment is one region, so it selects nothing
// here; an operation whose result it could change would list it). Never passed
// to an operation, never in an audit record's parameters.
bool is_system_param(std::string_view name);

}  // namespace sluice::api
