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
// "10.0.0.0/8", "10.1.2.3", "2001:db8::/32", "::1". Host bits are masked off.
bool parse_ip_net(std::string_view s, IpNet& out);
// A single address (no prefix); IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4.
bool parse_ip_addr(std::string_view s, IpNet& out);
// True if `addr` (a parse_ip_addr result) lies in `net`.
bool ip_in_net(const IpNet& addr, const IpNet& net);

}  // namespace sluice::iam::policy
