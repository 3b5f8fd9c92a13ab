#pragma once
// RAM-style errors returned by value: {code, http_status, message}. No
// exceptions cross the IAM API; every operation returns Result<T>.
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sluice::iam {

struct Error {
  std::string code;     // "EntityNotExist.User"
  int http_status = 400;
  std::string message;  // says what is wrong and what to do about it
};

namespace err {
inline Error not_exist(std::string code, std::string msg) { return {std::move(code), 404, std::move(msg)}; }
inline Error already_exists(std::string code, std::string msg) { return {std::move(code), 409, std::move(msg)}; }
inline Error conflict(std::string code, std::string msg) { return {std::move(code), 409, std::move(msg)}; }
inline Error limit(std::string code, std::string msg) { return {std::move(code), 409, std::move(msg)}; }
inline Error invalid(std::string code, std::string msg) { return {std::move(code), 400, std::move(msg)}; }
inline Error malformed_policy(std::string msg) { return {"MalformedPolicyDocument", 400, std::move(msg)}; }
inline Error no_permission(std::string msg) { return {"NoPermission", 403, std::move(msg)}; }
inline Error internal(std::string msg) { return {"InternalError", 500, std::move(msg)}; }
// The control store is out of reach (PostgreSQL down or the connection lost):
// nothing was done; the caller may try again shortly.
inline Error unavailable(std::string msg) { return {"ServiceUnavailable", 503, std::move(msg)}; }
}  // namespace err

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}
  Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : e_(std::move(e)) {}
  bool ok() const { return !e_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *e_; }

 private:
  std::optional<Error> e_;
};

using Status = Result<void>;

}  // namespace sluice::iam
