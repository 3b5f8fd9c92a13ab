#include "rules/dead_letters.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "rules/targets_internal.hpp"

namespace sluice::rules {

void DeadLetters::record(const mq::Rule& rule, const Entry& e, const std::string& error) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  std::string line = "{\"instanceId\":" + json_string(rule.instance_id) + ",\"ruleName\":" + json_string(rule.name) +
                     ",\"seq\":" + std::to_string(e.seq) + ",\"time\":" + std::to_string(now) +
                     ",\"error\":" + json_string(error) + ",\"topic\":" + json_string(e.message->topic) +
                     ",\"payload\":\"" + common::base64_encode(e.message->payload) + "\"}\n";
  std::lock_guard lk(mu_);
  if (path_.empty()) return;
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    log::error("rules: dead letter of rule {} seq {} not written to {}", rule.name, e.seq, path_);
  if (fd >= 0) ::close(fd);
}

}  // namespace sluice::rules
