#pragma once
// Checks on the raw document text that a parsed boost::json value can no longer answer.
#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::iam::policy {

// Characters that count against the document limit: Unicode code points outside
// JSON whitespace (whitespace between tokens is free, as in RAM; spaces inside
// strings count). Invalid UTF-8 is counted per byte and rejected later by the parser.
size_t counted_chars(std::string_view json);

// boost::json keeps the last of duplicate keys silently; a policy with two "Effect"
// keys is ambiguous, so we reject it. Returns the JSON-pointer-ish location of the
// first duplicate ("Statement[0].Effect") or "" when none (or when the text is not
// valid JSON: the real parser reports that).
std::string first_duplicate_key(std::string_view json);

}  // namespace sluice::iam::policy
