#pragma once
// Entries a target refused for good, one JSON line each in
// <data-dir>/rules-dead-letter.jsonl (mode 0600): rule, seq, time, error, the
// entry (topic and base64 payload), so nothing refused is lost unseen.
#include <mutex>
#include <string>

#include "mq/rule_model.hpp"
#include "rules/target.hpp"

namespace sluice::rules {

class DeadLetters {
 public:
  explicit DeadLetters(std::string path) : path_(std::move(path)) {}
  void record(const mq::Rule& rule, const Entry& e, const std::string& error);
  const std::string& path() const { return path_; }

 private:
  std::mutex mu_;
  std::string path_;
};

}  // namespace sluice::rules
