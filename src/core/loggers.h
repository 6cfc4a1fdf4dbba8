#pragma once
// The named loggers' registry, shared by the caller side (get_logger, levels) and the backend
// (each logger's sinks, additivity and backtrace ring). Loggers are never freed.
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gidlog/logger.h>
#include <gidlog/options.h>

namespace gidlog {
inline namespace v0 {

// The one door to a logger's private parts, for src/.
struct logger_access {
  static logger* make(std::string_view name) { return new logger(name); }
  static detail::level_gate& gate(logger& l) noexcept { return l.gate_; }
  static std::optional<level>& own_level(logger& l) noexcept { return l.own_level_; }
  static bool additive(const logger& l) noexcept { return l.additive_.load(std::memory_order_relaxed); }
  static void*& backend_slot(const logger& l) noexcept { return const_cast<logger&>(l).backend_; }
};

namespace detail {

// Bumped whenever a logger's sinks change: a writer rebuilds its sink list when it sees a new value.
extern std::atomic<std::uint64_t> g_logger_sinks_version;

struct logger_sinks {
  const logger* lg;
  std::vector<sink_ptr> sinks;
};
// Every logger that has sinks of its own, with them (a copy, under the registry lock).
std::vector<logger_sinks> logger_sink_snapshot();

// Sets the global level and the lowest level the backtrace ring keeps (level::off: no ring), and
// recomputes every gate that follows them. Called by start() and set_level().
void apply_global_levels(level global, level keep_from) noexcept;
// The same, keeping the backtrace setting.
void apply_global_level(level global) noexcept;

// Parses GIDLOG_LEVEL ("info,db=debug,http=warn"): the global level when given (else `fallback`),
// applies the per-logger parts, and returns one message per part that does not parse.
level parse_level_spec(std::string_view spec, level fallback, std::vector<std::string>& errors);

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
