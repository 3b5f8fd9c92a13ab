#pragma once
// The password computations of SPEC §5 and the topic-filter helpers the access
// layer needs. Comparisons of secrets and MACs are constant-time (CRYPTO_memcmp).
#include <string>
#include <string_view>

#include "common/crypto.hpp"

namespace sluice::mq {

// Base64(HMAC-SHA1(key = secret, data = client id)): the Signature,
// DeviceCredential and SIGNED custom-auth password.
std::string sign_client_id(std::string_view secret, std::string_view client_id);
// Constant time in the length of `expected` (lengths may differ: then false).
inline bool secret_equal(std::string_view given, std::string_view expected) {
  return common::constant_time_equal(given, expected);
}

// MQTT topic matching: does `topic` (no wildcards) match `filter`?
bool filter_matches(std::string_view filter, std::string_view topic);
// Is every topic that `inner` can match also matched by `outer`? (subscription
// covered by a permission or a token resource).
bool filter_covers(std::string_view outer, std::string_view inner);

// "Parent/a/b" -> "Parent"; "$share/g/Parent/#" -> "Parent" (shared prefix stripped).
std::string_view parent_of(std::string_view topic_or_filter);
// "$share/g/x/y" -> "x/y"; anything else unchanged.
std::string_view strip_shared(std::string_view filter);
// "GID_x@@@dev" -> "GID_x"; "" when there is no "@@@".
std::string_view group_of_client(std::string_view client_id);
bool valid_group_id(std::string_view gid);  // GID_/GID- prefix, 7..64 of [A-Za-z0-9_-]

}  // namespace sluice::mq
