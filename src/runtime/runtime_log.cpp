// The runtime logger's level and small helpers shared by the runtime's sources.
#include "runtime/runtime_log.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>

namespace gidlog {
inline namespace v0 {
namespace detail {
logger& make_runtime_logger() {
  logger& lg = get_logger("gidlog.runtime");
  level l = level::info;
  if (const char* env = std::getenv("GIDLOG_RUNTIME_LEVEL")) {
    if (std::optional<level> e = parse_level(env)) l = *e;
  }
  lg.set_level(l);
  return lg;
}

namespace {
std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
struct calibration_origin {
  std::int64_t ticks = now_ticks();
  std::int64_t ns = steady_ns();
};
const calibration_origin origin;
std::atomic<double> cached_rate{0.0};  // set once the window is long enough to stop refining
}  // namespace

double ns_per_tick() noexcept {
  const double cached = cached_rate.load(std::memory_order_relaxed);
  if (cached != 0.0) return cached;
  if (!arch::has_cycle_counter) return 1.0;  // the generic "cycles" are nanoseconds
  std::int64_t ns = steady_ns(), ticks = now_ticks();
  while (ns - origin.ns < 1'000'000) {  // too early to tell: at most 1 ms, once
    ns = steady_ns();
    ticks = now_ticks();
  }
  const double rate = static_cast<double>(ns - origin.ns) / static_cast<double>(std::max<std::int64_t>(1, ticks - origin.ticks));
  if (ns - origin.ns >= 10'000'000'000) cached_rate.store(rate, std::memory_order_relaxed);
  return rate;
}

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

level runtime_log_level() noexcept { return detail::runtime_logger().level(); }

void set_runtime_log_level(level l) noexcept { detail::runtime_logger().set_level(l); }

}  // namespace v0
}  // namespace gidlog
