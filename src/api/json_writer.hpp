#pragma once
// A minimal streaming JSON writer for API responses: the response shapes are
// fixed per operation, so writing them directly is both simplest and fastest.
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::api {

void json_escape_to(std::string& out, std::string_view s);  // with the quotes

class JsonWriter {
 public:
  JsonWriter& begin_object() { sep(); s_.push_back('{'); comma_ = false; return *this; }
  JsonWriter& end_object() { s_.push_back('}'); comma_ = true; return *this; }
  JsonWriter& begin_array() { sep(); s_.push_back('['); comma_ = false; return *this; }
  JsonWriter& end_array() { s_.push_back(']'); comma_ = true; return *this; }
  JsonWriter& key(std::string_view k) {
    sep();
    json_escape_to(s_, k);
    s_.push_back(':');
    comma_ = false;
    return *this;
  }
  JsonWriter& value(std::string_view v) { sep(); json_escape_to(s_, v); comma_ = true; return *this; }
  JsonWriter& value(const char* v) { return value(std::string_view(v)); }
  JsonWriter& value(const std::string& v) { return value(std::string_view(v)); }
  JsonWriter& value(int64_t v) { sep(); s_ += std::to_string(v); comma_ = true; return *this; }
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(size_t v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(bool v) { sep(); s_ += v ? "true" : "false"; comma_ = true; return *this; }
  JsonWriter& null() { sep(); s_ += "null"; comma_ = true; return *this; }
  JsonWriter& raw(std::string_view json) { sep(); s_ += json; comma_ = true; return *this; }
  template <class T>
  JsonWriter& field(std::string_view k, const T& v) { return key(k).value(v); }
  // "Users":{"User":[  ... the cloud's XML-shaped list wrapper; close with end_wrapped().
  JsonWriter& begin_wrapped(std::string_view outer, std::string_view inner) {
    return key(outer).begin_object().key(inner).begin_array();
  }
  JsonWriter& end_wrapped() { return end_array().end_object(); }

  std::string& str() { return s_; }

 private:
  void sep() {
    if (comma_) s_.push_back(',');
  }
  std::string s_;
  bool comma_ = false;
};

}  // namespace sluice::api
