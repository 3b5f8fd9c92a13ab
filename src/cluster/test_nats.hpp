#pragma once
// A NATS cluster with JetStream for unit tests: scripts/nats.sh in a temp dir,
// stopped when the object goes.
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace sluice::cluster::testing {

inline std::string source_root() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().string();
}

class TestNats {
 public:
  explicit TestNats(int servers = 1) {
    char tmpl[] = "/tmp/sluice-nats-test.XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    const std::string cmd = source_root() + "/scripts/nats.sh start " + dir_ + "/c " + std::to_string(servers);
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) throw std::runtime_error("popen");
    std::array<char, 4096> buf{};
    std::string out;
    while (fgets(buf.data(), buf.size(), p)) out += buf.data();
    if (pclose(p) != 0) throw std::runtime_error("nats.sh start failed: " + out);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    size_t start = 0;
    while (start <= out.size()) {
      const size_t comma = out.find(',', start);
      urls_.push_back(out.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  ~TestNats() {
    const std::string cmd = source_root() + "/scripts/nats.sh stop " + dir_ + "/c";
    [[maybe_unused]] int rc = std::system(cmd.c_str());
    std::filesystem::remove_all(dir_);
  }
  const std::vector<std::string>& urls() const { return urls_; }

 private:
  std::string dir_;
  std::vector<std::string> urls_;
};

}  // namespace sluice::cluster::testing
