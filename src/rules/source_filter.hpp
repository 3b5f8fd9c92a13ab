#pragma once
// An outflow rule's SourceTopic, matched against every message published in
// its instance on the publishing loop. Most rules name a parent topic and all
// below it ("Sensors/#") or one topic: those are a prefix or an exact compare
// (about 15 instructions); any other filter goes through mqtt::topic_matches
// (about 200 for a three-level topic).
#include <bit>
#include <cstdint>
#include <cstring>
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
    // A parent of at most 8 bytes: its bytes as one little-endian word, compared
    // with the topic's first 8 bytes under a mask (no memcmp call, ~25
    // instructions less on the publishing loop per message).
    if constexpr (std::endian::native == std::endian::little)
      if (kind_ == Kind::Subtree && prefix_len_ <= 8) {
        std::memcpy(&head_, head.data(), prefix_len_);
        mask_ = prefix_len_ == 8 ? ~uint64_t(0) : (uint64_t(1) << (8 * prefix_len_)) - 1;
      }
  }

  bool matches(std::string_view topic) const {
    switch (kind_) {
      case Kind::Exact:
        return topic == filter_;
      case Kind::Subtree:  // "a/b/#" matches "a/b" and everything under "a/b/"
        if (mask_ != 0 && topic.size() >= 8) {
          uint64_t w;
          std::memcpy(&w, topic.data(), 8);
          return (w & mask_) == head_ && (topic.size() == prefix_len_ || topic[prefix_len_] == '/');
        }
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
  uint64_t head_ = 0, mask_ = 0;  // Subtree of at most 8 bytes (mask_ != 0): the word compare
  Kind kind_ = Kind::General;
};

}  // namespace sluice::rules
