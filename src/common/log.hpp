#pragma once
// Logging facade: cheap level checks in every layer, spdlog behind it (in
// log.cpp only). Messages never carry secrets: callers log ids, not keys.
#include <fmt/format.h>

#include <string_view>
#include <utility>

namespace sluice::log {

enum class Level : int { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

// level: "debug" | "info" | "warn" | "error" | "off"; json: one JSON object per line.
void init(std::string_view level, bool json);
bool enabled(Level l);
void write(Level l, std::string_view msg);

template <class... A>
void debug(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::Debug)) write(Level::Debug, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void info(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::Info)) write(Level::Info, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void warn(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::Warn)) write(Level::Warn, fmt::format(f, std::forward<A>(a)...));
}
template <class... A>
void error(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::Error)) write(Level::Error, fmt::format(f, std::forward<A>(a)...));
}

}  // namespace sluice::log
