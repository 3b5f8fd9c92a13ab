#include "common/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

namespace sluice::log {

namespace {
std::atomic<int> g_level{static_cast<int>(Level::Info)};
bool g_json = false;

std::string json_escape(std::string_view s) {
  std::string r;
  r.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '"': r += "\\\""; break;
      case '\\': r += "\\\\"; break;
      case '\n': r += "\\n"; break;
      case '\r': r += "\\r"; break;
      case '\t': r += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) r += fmt::format("\\u{:04x}", c);
        else r += c;
    }
  }
  return r;
}
}  // namespace

void init(std::string_view level, bool json) {
  Level l = Level::Info;
  if (level == "debug") l = Level::Debug;
  else if (level == "warn") l = Level::Warn;
  else if (level == "error") l = Level::Error;
  else if (level == "off") l = Level::Off;
  g_level = static_cast<int>(l);
  g_json = json;
  auto logger = spdlog::stderr_logger_mt("sluice");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::trace);
  if (json) {
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
}

bool enabled(Level l) { return static_cast<int>(l) >= g_level.load(std::memory_order_relaxed); }

void write(Level l, std::string_view msg) {
  static const spdlog::level::level_enum map[] = {spdlog::level::debug, spdlog::level::info,
                                                  spdlog::level::warn, spdlog::level::err};
  const auto lvl = map[static_cast<int>(l) < 4 ? static_cast<int>(l) : 3];
  if (g_json) spdlog::log(lvl, "\"msg\":\"{}\"", json_escape(msg));
  else spdlog::log(lvl, "{}", msg);
}

}  // namespace sluice::log
