#pragma once
// An outflow rule's SourceTopic, matched against every message published in
// its instance on the publishing loop. Most rules name a parent topic and all
// below it ("Sensors/#") or one topic: those are a prefix or an exact compare
// (about 15 instructions); any other filter goes through mqtt::topic_matches
// (about 200 for a three-level topic).
#include <string>
#include <string_view>

#include "mqtt/topic.hpp"

namespace sluice::rules {

class SourceFilter {
 public:
  explicit SourceFilter(std::string filter) : filter_(std::move(filter)) {
    const bool tail_hash = filter_.size() >= 2 && filter_.compare(filter_.size() - 2, 2, "/#") == 0;
    const std::string_view head(filter_.data(), tail_hash ? filter_.size() - 2 : filter_.size());
    const bool wild = head.find_first_of("+#") != std::string_view::npos;
    // A filter starting with a wildcard must not match "$" topics: left to topic_matches.
    if (!wild && !head.empty()) kind_ = tail_hash ? Kind::Subtree : Kind::Exact;
    prefix_len_ = head.size();
  }

  bool matches(std::string_view topic) const {
    switch (kind_) {
      case Kind::Exact:
        return topic == filter_;
      case Kind::Subtree:  // "a/b/#" matches "a/b" and everything under "a/b/"
        return topic.size() >= prefix_len_ && topic.compare(0, prefix_len_, filter_, 0, prefix_len_) == 0 &&
               (topic.size() == prefix_len_ || topic[prefix_len_] == '/');
      case Kind::General:
        break;
    }
    return mqtt::topic_matches(filter_, topic);
  }
  const std::string& text() const { return filter_; }

 private:
  enum class Kind : uint8_t { General, Exact, Subtree };
  std::string filter_;
  size_t prefix_len_ = 0;
  Kind kind_ = Kind::General;
};

}  // namespace sluice::rules
