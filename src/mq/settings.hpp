#pragma once
// The per-instance limits and feature switches (SPEC §1) as one table, so that
// the store's JSON, the API's UpdateInstance/CreateInstance parameters, the
// instance description and `sluice admin instance update --set` all name and
// check them the same way.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mq/model.hpp"

namespace sluice::mq {

struct Setting {
  const char* name;  // the API's parameter name ("MaxPayload"); the JSON key is the same in camelCase
  uint32_t InstanceSettings::*number = nullptr;  // exactly one of number / flag is set
  bool InstanceSettings::*flag = nullptr;
  uint32_t min = 0, max = 0;  // numbers: the accepted range
  const char* help;           // what it limits or switches, and the unit
  // A flag written as one of two words instead of true/false (TlsAuthMode:
  // "one-way" / "mutual"); null for the others.
  const char* off_word = nullptr;
  const char* on_word = nullptr;
};

// The value as the API and the admin CLI show it: a number, true/false, or a flag's word.
std::string setting_text(const InstanceSettings& s, const Setting& st);

std::span<const Setting> instance_settings();
const Setting* find_setting(std::string_view name);  // by API name, case-insensitive

// Sets `name` from its text ("1024", "true"/"false"). Returns a message for a
// person on an unknown name or a value out of range.
std::optional<std::string> set_setting(InstanceSettings& s, std::string_view name, std::string_view value);
// Checks every number against its range (the first problem's message).
std::optional<std::string> check_settings_range(const InstanceSettings& s, std::string* field);

// `overrides`: the names of the settings set explicitly (Instance::overrides),
// stored beside them under "overrides".
std::string settings_to_json(const InstanceSettings& s, const std::vector<std::string>& overrides = {});
InstanceSettings settings_from_json(std::string_view text);  // missing keys keep their defaults
std::vector<std::string> overrides_from_json(std::string_view text);

}  // namespace sluice::mq
