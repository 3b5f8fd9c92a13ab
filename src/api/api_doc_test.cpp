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
