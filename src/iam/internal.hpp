#pragma once
// Helpers shared by the iam_*.cpp files; not part of the public interface.
#include <optional>
#include <string>
#include <string_view>

#include "iam/errors.hpp"
#include "iam/model.hpp"
#include "store/crypto.hpp"
#include "store/db.hpp"

namespace sluice::iam::detail {

// Runs f; a storage exception becomes InternalError (no exceptions cross the API).
template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return err::internal(std::string("storage error: ") + e.what());
  }
}

// Checks `s` is 1..max chars (min chars) drawn from letters, digits and `extra`.
// Produces InvalidParameter.<field>.Length / .InvalidChars.
std::optional<Error> check_name(std::string_view field, std::string_view s, size_t min, size_t max,
                                std::string_view extra);
std::optional<Error> check_length(std::string_view field, std::string_view s, size_t min, size_t max);

std::string numeric_id(size_t digits);  // first digit non-zero
std::string key_for(std::string_view a, std::string_view b, std::string_view c = {});

PrincipalType principal_type_from(std::string_view s, bool* ok);
PolicyType policy_type_from(std::string_view s, bool* ok);
KeyStatus key_status_from(std::string_view s);

std::string lower(std::string_view s);

}  // namespace sluice::iam::detail
