// docs/api.yaml describes exactly the operations the dispatcher knows: every
// registered operation appears there (operationId <Product>_<Action>, with its
// Version), and nothing else does.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "api/rpc.hpp"
#include "mq/settings.hpp"

namespace sluice::api {
namespace {

std::string read_doc() {
  auto path = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "docs" / "api.yaml";
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ApiDoc, MatchesDispatcher) {
  std::string doc = read_doc();
  std::set<std::string> documented, known;
  std::regex path_re(R"re("/\?Action=(\w+)&Version=([\d-]+)":\s*\n\s*post:\s*\n\s*operationId: (\w+)_(\w+))re");
  for (std::sregex_iterator it(doc.begin(), doc.end(), path_re), end; it != end; ++it) {
    const auto& m = *it;
    EXPECT_EQ(m[1].str(), m[4].str()) << "path and operationId disagree for " << m[3] << "_" << m[4];
    documented.insert(m[3].str() + "_" + m[1].str() + "@" + m[2].str());
  }
  for (const auto* op : all_operations().all()) known.insert(op->product + "_" + op->action + "@" + op->version);
  for (const auto& k : known) EXPECT_TRUE(documented.count(k)) << k << " is served but not in docs/api.yaml";
  for (const auto& d : documented) EXPECT_TRUE(known.count(d)) << d << " is in docs/api.yaml but not served";
  EXPECT_GT(known.size(), 50u);
}

// The section of docs/api.yaml that describes one operation.
std::string op_section(const std::string& doc, const Operation& op) {
  const auto begin = doc.find("\"/?Action=" + op.action + "&Version=" + op.version + "\":");
  if (begin == std::string::npos) return {};
  auto end = doc.find("\n  \"/?Action=", begin + 1);
  if (end == std::string::npos) end = doc.find("\ncomponents:", begin);
  return doc.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

std::string yaml_rules(const char* key, const std::vector<ParamRule>& rules) {
  if (rules.empty()) return std::string("        ") + key + ": []\n";
  std::string s = std::string("        ") + key + ":\n";
  for (const auto& r : rules) {
    s += "          - {name: " + r.name;
    if (!r.accepted.empty()) s += ", accepted: \"" + r.accepted + "\"";
    s += ", why: \"" + r.why + "\"}\n";
  }
  return s;
}

// The block docs/api.yaml must carry for an operation (parameters.hpp).
std::string expected_block(const ParameterContract& c) {
  std::string s = "      x-sluice-parameters:\n        implemented: [";
  for (size_t i = 0; i < c.implemented.size(); ++i) s += (i ? ", " : "") + c.implemented[i];
  s += "]\n";
  return s + yaml_rules("refused", c.refused) + yaml_rules("ignored", c.ignored);
}

// Every operation declares what it does with each parameter (implemented /
// refused / ignored, parameters.cpp); docs/api.yaml says the same, word for word,
// and its OpenAPI "parameters" list exactly the implemented ones.
TEST(ApiDoc, ParameterContractsMatchTheDoc) {
  std::string doc = read_doc();
  for (const auto* op : all_operations().all()) {
    const std::string id = op->product + " " + op->action;
    ASSERT_NE(op->params, nullptr) << id << " declares no parameter contract in src/api/parameters.cpp";
    const auto& c = *op->params;
    std::set<std::string> seen;
    for (const auto& n : c.implemented) EXPECT_TRUE(seen.insert(n).second) << id << ": " << n << " listed twice";
    for (const auto* rules : {&c.refused, &c.ignored})
      for (const auto& r : *rules) {
        EXPECT_TRUE(seen.insert(r.name).second) << id << ": " << r.name << " listed twice";
        EXPECT_FALSE(r.why.empty()) << id << ": " << r.name << " has no reason";
        EXPECT_EQ(r.why.find('"'), std::string::npos) << id << ": the reason for " << r.name << " has a quote";
        EXPECT_NE(r.why.back(), '.') << id << ": the reason for " << r.name << " ends with a period";
      }
    for (const auto& r : c.ignored) EXPECT_TRUE(r.accepted.empty()) << id << ": an ignored rule accepts no value";
    const std::string section = op_section(doc, *op);
    ASSERT_FALSE(section.empty()) << id;
    const std::string block = expected_block(c);
    EXPECT_NE(section.find(block), std::string::npos)
        << id << ": docs/api.yaml must carry, after x-ram-action:\n" << block;
    std::set<std::string> documented, implemented(c.implemented.begin(), c.implemented.end());
    std::regex name_re(R"re(- \{name: "([\w.]+)", in: query)re");
    for (std::sregex_iterator it(section.begin(), section.end(), name_re), end; it != end; ++it)
      documented.insert(std::string(parameter_base((*it)[1].str())));  // "Tag.N.Key" documents Tag
    EXPECT_EQ(documented, implemented) << id << ": its OpenAPI parameters are not the implemented ones";
  }
}

// Every instance limit and switch is a parameter of CreateInstance and UpdateInstance.
TEST(ApiDoc, InstanceSettingsAreParameters) {
  std::string doc = read_doc();
  for (const char* action : {"CreateInstance", "UpdateInstance"}) {
    const auto begin = doc.find(std::string("\"/?Action=") + action + "&");
    ASSERT_NE(begin, std::string::npos) << action;
    const auto end = doc.find("\"/?Action=", begin + 1);
    const std::string section = doc.substr(begin, end - begin);
    for (const auto& st : mq::instance_settings())
      EXPECT_NE(section.find(std::string("name: \"") + st.name + "\""), std::string::npos)
          << st.name << " is not a documented parameter of " << action;
  }
}

}  // namespace
}  // namespace sluice::api
