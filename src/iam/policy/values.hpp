#pragma once
// Parsers for the typed condition values (numbers, dates, booleans, addresses).
// Used twice: at parse time for the policy side (errors are reported), and at
// evaluation time for the request side (an unparsable request value simply
// does not match). Allocation-free.
#include <cstdint>
#include <string_view>

#include "iam/policy/document.hpp"

namespace sluice::iam::policy {

// A decimal number: optional sign, digits, optional fraction and exponent. Finite only.
bool parse_number(std::string_view s, double& out);
// ISO 8601 ("2026-01-02", "2026-01-02T03:04:05Z", "...T03:04:05.123+08:00", "...T03:04Z")
// or Unix epoch seconds (digits only). Times without a zone are UTC.
bool parse_date(std::string_view s, int64_t& ms_out);
// "true" / "false", ASCII case-insensitive.
bool parse_bool(std::string_view s, bool& out);
// Addresses and networks: common/ip_net.hpp.
using common::ip_in_net;
using common::parse_ip_addr;
using common::parse_ip_net;

}  // namespace sluice::iam::policy
