#pragma once
// The JSON envelope of an outflow entry (webhook, NATS; docs/rules.md), written
// by a target for each entry it sends:
//   {"instanceId":..,"ruleName":..,"seq":N,"topic":..,"qos":Q,"retain":B,"payload":base64}
// The rule's part is made once; an entry is its seq (consecutive seqs carried
// in place, common/decimal_counter.hpp), its topic (one 8-byte-a-step check
// that it needs no escaping), its payload in base64 (SSSE3 where there is one)
// and fixed pieces, all written at once into the caller's buffer: a batch's
// body grows once for all of its entries, and nothing is zeroed first. message_json (target.hpp) is the
// same for one entry without a target.
#include <string>
#include <string_view>

#include "common/decimal_counter.hpp"
#include "common/out_buffer.hpp"
#include "rules/target.hpp"

namespace sluice::rules {

class MessageEnvelope {
 public:
  explicit MessageEnvelope(const mq::Rule& rule);

  // The entry's object, appended to `out`.
  void append(common::OutBuffer& out, const Entry& e);
  // NDJSON: each entry's object and a '\n', appended to `out` in one growth
  // (entries whose topic needs escaping, rare, each in a step of their own).
  void append_lines(common::OutBuffer& out, const Entry* first, size_t n);

 private:
  // At most this many bytes for `e`'s object when its topic needs no escaping.
  size_t plain_bound(const broker::Message& m) const;
  // Writes `e`'s object (topic plain) at `p`, returns its end.
  char* write_plain(char* p, const Entry& e);
  void append_escaped(common::OutBuffer& out, const Entry& e);

  std::string prefix_;  // {"instanceId":..,"ruleName":..,"seq": then padding to a multiple of 16
  size_t prefix_len_;   // without the padding
  common::DecimalCounter seq_;
};

}  // namespace sluice::rules
