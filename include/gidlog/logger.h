#pragma once
// Named loggers: each with its own run-time level and, optionally, its own sinks.
//
//   gidlog::logger& db = gidlog::get_logger("db");
//   db.set_level(gidlog::level::debug);        // db at DEBUG, everything else at the global level
//   LOGGER_DEBUG(db, "query took {} us", us);  // %n prints "db"; the JSON sink writes "logger":"db"
//
//   auto audit = gidlog::file_sink("audit.log");
//   gidlog::get_logger("audit", {.sinks = {audit}, .additive = false});  // audit.log only
// (logger_options and the sinks are in <gidlog/options.h>, which <gidlog/gidlog.h> includes.)
//
// GIDLOG_LEVEL=info,db=debug,http=warn sets the global level and those loggers' levels at start().
// The root logger (LOG_*) is the one named options::name; it is not returned by get_logger.
//
// Threading: every function here may be called from any thread. A logger lives until the process
// exits; the reference get_logger returns never dangles.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <gidlog/detail/call_gate.h>
#include <gidlog/level.h>

namespace gidlog {
inline namespace v0 {

// A logger's own sinks and additivity: defined in <gidlog/options.h>, with the sinks.
struct logger_options;

class logger {
 public:
  logger(const logger&) = delete;
  logger& operator=(const logger&) = delete;

  std::string_view name() const noexcept { return name_; }

  // The level of this logger alone; until set (or after reset_level), the global one
  // (gidlog::set_level, options::level, GIDLOG_LEVEL) follows it.
  void set_level(gidlog::level l) noexcept;
  void reset_level() noexcept;
  gidlog::level level() const noexcept;

  // Replaces the logger's sinks and additivity (takes effect for records the backend writes from
  // now on). Throws std::invalid_argument naming "logger_options::sinks[i]" for a null sink.
  void configure(const logger_options& opt);

  // Internal: what the LOG_* macros read.
  const detail::level_gate& gate() const noexcept { return gate_; }

 private:
  friend struct logger_access;
  explicit logger(std::string_view name) : name_(name) {}

  detail::level_gate gate_{};
  std::string name_;
  std::optional<gidlog::level> own_level_;  // under the registry lock
  std::atomic<bool> additive_{true};
  void* backend_ = nullptr;  // the backend's state for this logger (its ring); writer lock only
};

// The logger named `name`, created on first use (with the global level and no sinks of its own).
logger& get_logger(std::string_view name);
// The same, configured with `opt` (see logger::configure).
logger& get_logger(std::string_view name, const logger_options& opt);

// Writes every backtrace ring now (see options::backtrace), oldest record first, each marked
// "[backtrace] ", and empties them; returns once they are written. Does nothing when no ring
// holds anything.
void dump_backtrace() noexcept;

// For tests: the clock LOG_*_EVERY reads, in nanoseconds (monotonic). nullptr: steady_clock.
void set_rate_limit_clock(std::int64_t (*now_ns)() noexcept) noexcept;

}  // namespace v0
}  // namespace gidlog
