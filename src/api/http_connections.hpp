#pragma once
// The HTTP listener's connection budget: at most `total` open connections, and
// at most `per_source` from one client address, so that one address holding
// sockets open cannot take the management API, the console or /healthz away
// from everyone else, and HTTP never takes the descriptors the MQTT listeners
// were sized for (serve.cpp subtracts `total` from MQTT's automatic bound).
// Thread-safe: the HTTP threads accept and close concurrently.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sluice::api {

class HttpConnectionBudget {
 public:
  enum class Verdict { Admit, SourceFull, Full };
  // 0 for either: no such limit.
  HttpConnectionBudget(uint32_t total, uint32_t per_source) : total_(total), per_source_(per_source) {}
  // Admit: counted until release(source). SourceFull / Full: not counted.
  Verdict admit(const std::string& source);
  // Counts a connection past `total` (the caller made room by closing another,
  // which release()s when it is gone). Still refuses past `per_source`.
  bool admit_over_total(const std::string& source);
  void release(const std::string& source);
  uint32_t open() const;
  size_t sources() const;

 private:
  const uint32_t total_, per_source_;
  mutable std::mutex mu_;
  uint32_t open_ = 0;
  std::unordered_map<std::string, uint32_t> by_source_;  // no zero entries
};

}  // namespace sluice::api
