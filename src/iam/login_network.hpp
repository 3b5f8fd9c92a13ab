#pragma once
// The security preference's LoginNetworkMasks (issue 21): the networks a RAM
// user may sign in to the console from. ';'-separated addresses or CIDR blocks
// (commas and spaces are taken as separators too), IPv4 or IPv6, at most 40;
// empty: anywhere.
#include <optional>
#include <string>
#include <string_view>

namespace sluice::iam {

inline constexpr size_t kMaxLoginNetworkMasks = 40;

// Why `masks` is not a valid list (naming the first bad entry), or nullopt.
std::optional<std::string> login_network_masks_problem(std::string_view masks);

// Whether a sign-in from `source` (an IP address) is allowed by `masks`: any
// address when empty; no address (unknown or unparsable) otherwise.
bool login_network_allows(std::string_view masks, std::string_view source);

}  // namespace sluice::iam
