#pragma once
// The runtime's own logger: records at or above runtime_log_level() are emitted whatever the
// application's level, with logger name "gidlog.runtime" (a named logger, see gidlog/logger.h).
// The check is one relaxed load of its gate (after the initialised-static check of
// runtime_logger(), a plain load too); below the level no argument is evaluated and nothing is
// formatted.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <string>

#include <gidlog/log.h>
#include <gidlog/arch/cpu.h>
#include <gidlog/runtime/runtime_log.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

// The named logger "gidlog.runtime", made on first use with its own level (GIDLOG_RUNTIME_LEVEL,
// else info), so it does not follow the application's level.
logger& make_runtime_logger();
inline logger& runtime_logger() {
  static logger& lg = make_runtime_logger();
  return lg;
}

// Job timestamps: the cycle counter (arch/, ~7 ns), not clock_gettime (~50 ns on the KVM dev
// machine, 20 % of an empty job's cost when read three times per job). Converted to nanoseconds
// only on slow paths: records, stats, profiles, the slow-job check.
inline std::int64_t now_ticks() noexcept { return static_cast<std::int64_t>(arch::cycles()); }

// Nanoseconds per tick, measured against steady_clock since the library was loaded (at least
// 1 ms; the first call may wait that long), refined until the window reaches 10 s.
double ns_per_tick() noexcept;

inline std::int64_t ticks_to_ns(std::int64_t ticks) noexcept {
  return static_cast<std::int64_t>(static_cast<double>(ticks) * ns_per_tick());
}

// what() of the exception in e, or a description when it is not a std::exception.
std::string exception_text(const std::exception_ptr& e) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog

#define GIDLOG_RT_LOG_(lvl, ...) \
  GIDLOG_DETAIL_NAMED_I_(lvl, ::gidlog::detail::runtime_logger() GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
#define GIDLOG_RT_TRACE_(...) GIDLOG_RT_LOG_(::gidlog::level::trace, __VA_ARGS__)
#define GIDLOG_RT_DEBUG_(...) GIDLOG_RT_LOG_(::gidlog::level::debug, __VA_ARGS__)
#define GIDLOG_RT_INFO_(...) GIDLOG_RT_LOG_(::gidlog::level::info, __VA_ARGS__)
#define GIDLOG_RT_WARN_(...) GIDLOG_RT_LOG_(::gidlog::level::warn, __VA_ARGS__)
#define GIDLOG_RT_ERROR_(...) GIDLOG_RT_LOG_(::gidlog::level::error, __VA_ARGS__)
