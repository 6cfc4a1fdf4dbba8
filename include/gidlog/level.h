#pragma once
// Severity levels and their names as they appear in the record prefix.
#include <cstdint>
#include <optional>
#include <string_view>

namespace gidlog {
inline namespace v0 {

enum class level : std::uint8_t { trace = 0, debug = 1, info = 2, warn = 3, error = 4, fatal = 5, off = 6 };

// "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF".
constexpr std::string_view level_name(level l) noexcept {
  constexpr std::string_view names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"};
  auto i = static_cast<unsigned>(l);
  return i < 7 ? names[i] : std::string_view{"?"};
}

// Parses a level name, case-insensitive ("info", "WARN", "warning", "err"), or a digit 0-6.
std::optional<level> parse_level(std::string_view text) noexcept;

}  // namespace v0
}  // namespace gidlog
