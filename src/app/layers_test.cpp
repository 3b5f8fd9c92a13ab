// The layer order of src/ is enforced, not only drawn: every library is one
// sluice_library(name dir ...) line in CMakeLists.txt, lowest layer first, and a
// library may include headers only from its own directory and from libraries
// above it in that list. This test reads every #include "..." under src/ and
// fails on an include that points down the list (an upward dependency), so the
// picture in docs/architecture.md cannot silently drift from the code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path kRoot = fs::path(__FILE__).parent_path().parent_path().parent_path();

struct Layer {
  std::string lib;  // sluice_broker
  std::string dir;  // broker (relative to src/)
  size_t rank;      // position in CMakeLists.txt
};

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<Layer> layers() {
  std::vector<Layer> out;
  const std::string cm = read(kRoot / "CMakeLists.txt");
  std::regex re(R"(\nsluice_library\((\w+)\s+src/([\w/]+))");
  for (std::sregex_iterator it(cm.begin(), cm.end(), re), end; it != end; ++it)
    out.push_back({(*it)[1].str(), (*it)[2].str(), out.size()});
  return out;
}

// The library a path under src/ belongs to: the longest directory that is a
// library's (src/iam/policy is sluice_policy, src/iam is sluice_iam).
const Layer* owner(const std::vector<Layer>& ls, const std::string& rel) {
  const Layer* best = nullptr;
  for (const auto& l : ls)
    if (rel.rfind(l.dir + "/", 0) == 0 && (!best || l.dir.size() > best->dir.size())) best = &l;
  return best;
}

TEST(Layers, EveryLibraryIncludesOnlyItselfAndLayersAboveIt) {
  const auto ls = layers();
  ASSERT_GE(ls.size(), 8u) << "no sluice_library(...) lines found in CMakeLists.txt";
  std::regex inc(R"re(#include "([^"]+)")re");
  size_t checked = 0;
  std::vector<std::string> violations;
  for (const auto& e : fs::recursive_directory_iterator(kRoot / "src")) {
    if (!e.is_regular_file()) continue;
    const auto ext = e.path().extension();
    if (ext != ".cpp" && ext != ".hpp") continue;
    const std::string rel = fs::relative(e.path(), kRoot / "src").generic_string();
    const Layer* from = owner(ls, rel);
    if (!from) continue;  // src/main.cpp: the executable, above every library
    const std::string text = read(e.path());
    for (std::sregex_iterator it(text.begin(), text.end(), inc), end; it != end; ++it) {
      const std::string target = (*it)[1].str();
      const Layer* to = owner(ls, target);
      if (!to) continue;  // not a library header (a third-party or test-only header)
      ++checked;
      if (to->rank > from->rank)
        violations.push_back(rel + " (" + from->lib + ") includes " + target + " (" + to->lib +
                             ", a later layer in CMakeLists.txt)");
    }
  }
  EXPECT_GT(checked, 300u);
  for (const auto& v : violations) ADD_FAILURE() << v;
}

}  // namespace
