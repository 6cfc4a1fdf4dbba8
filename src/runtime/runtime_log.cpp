// The runtime logger's level and small helpers shared by the runtime's sources.
#include "runtime/runtime_log.h"

#include <cstdlib>
#include <exception>
#include <optional>
#include <string>

namespace gidlog {
inline namespace v0 {
namespace detail {
namespace {
std::uint8_t initial_runtime_level() noexcept {
  if (const char* env = std::getenv("GIDLOG_RUNTIME_LEVEL")) {
    if (std::optional<level> l = parse_level(env)) return static_cast<std::uint8_t>(*l);
  }
  return static_cast<std::uint8_t>(level::info);
}
}  // namespace

std::atomic<std::uint8_t> runtime_level{initial_runtime_level()};

std::string exception_text(const std::exception_ptr& e) noexcept {
  try {
    if (!e) return "no exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      return x.what();
    } catch (...) {
      return "exception not derived from std::exception";
    }
  } catch (...) {
    return "?";
  }
}
}  // namespace detail

level runtime_log_level() noexcept {
  return static_cast<level>(detail::runtime_level.load(std::memory_order_relaxed));
}

void set_runtime_log_level(level l) noexcept {
  detail::runtime_level.store(static_cast<std::uint8_t>(l), std::memory_order_relaxed);
}

}  // namespace v0
}  // namespace gidlog
