#pragma once
// gidlog's logging API: levels, the LOG_* macros, start/stop, named loggers and context fields;
// the header for a file that only logs. It declares start(const options&) without defining
// gidlog::options, and leaves out the sinks, the runtime (pool, limiter, tasks), introspection and
// the standard headers they need (<chrono>, <functional>, <memory>, <vector>, ...): what a
// logging file pays to include it is in README "Performance". <gidlog/gidlog.h> includes it and
// the rest; a file that fills in options or makes sinks includes <gidlog/options.h> (options,
// logger_options) and the sinks it makes, one header each under <gidlog/sinks/> (sink.h for the
// interface, console.h, file.h, rotating_file.h, json.h, syslog.h, journald.h), or simply
// <gidlog/gidlog.h>. deferred_format and runtime_format are in <gidlog/format.h>, which it includes.
//
//   gidlog::options opt;                 // <gidlog/options.h>
//   opt.sinks = {gidlog::file_sink("app.log"), gidlog::console_sink()};
//   gidlog::start(opt);
//   LOG_INFO("listening on {}", port);   // [1130/091502.117:INFO:gid-4711:main.cpp:12] listening on 8080
//   gidlog::stop();                      // also runs at exit
//
// Threading: every function here may be called from any thread. LOG_* never blocks except
// under queue_policy::block with a full queue, never throws and never allocates for built-in
// argument types (arithmetic, bool, char, pointers, C strings, std::string, std::string_view),
// and captures the common standard types (chrono, optional, vectors and arrays of numbers, enums,
// error_code, path, char8_t text; see detail/std_types.h) as values too, without including their
// headers. Any other formattable type is formatted on the calling thread, so a reference it holds
// can never dangle by the time the backend writes the line.
#include <cstdint>

#include <gidlog/config.h>
#include <gidlog/context.h>
#include <gidlog/detail/frontend.h>
#include <gidlog/gid.h>
#include <gidlog/level.h>
#include <gidlog/logger.h>
#include <gidlog/version.h>

namespace gidlog {
inline namespace v0 {

// Every run-time setting: defined in <gidlog/options.h>.
struct options;

// Validates `opt` and starts the backend thread "gidlog-backend". Throws std::invalid_argument
// naming the field (e.g. "gidlog::options::queue_capacity: must be at least 64") and starts
// nothing when an option is invalid; throws std::logic_error when already running. Registers
// stop() to run at exit. GIDLOG_LEVEL in the environment overrides opt.level.
void start(const options& opt);
// The same with the default options (one console_sink() on stdout, level info).
void start();

// Drains every record logged before the call, flushes the sinks and joins the backend. Records
// logged afterwards are written synchronously to the same sinks. Safe to call twice.
void stop() noexcept;

// Returns when every record this thread logged before the call, and every record other threads
// logged before it (happens-before), is written and the sinks flushed.
void flush() noexcept;

// Changes the run-time level; takes effect for the next LOG_* call on every thread.
void set_level(gidlog::level l) noexcept;
gidlog::level get_level() noexcept;

// True between start() and stop().
bool running() noexcept;

// Counters since the process started; readable from any thread.
struct counters {
  std::uint64_t written;        // records handed to the sinks
  std::uint64_t dropped;        // records discarded by queue_policy::drop
  std::uint64_t sink_errors;    // failed sink write()/flush() calls (each retried)
  std::uint64_t format_errors;  // records whose formatting threw (written with the reason)
  std::uint64_t nomem;          // records whose argument spill could not be allocated
  std::uint64_t unwritten;      // records stop() or a crash drain gave up on (a stalled sink)
  std::uint64_t sink_dropped;   // lines a failing sink lost past options::sink_backlog_bytes
  std::uint64_t reentrant;      // records logged from a signal handler that interrupted a LOG_*
                                // call on the same thread and could not be kept: such records wait
                                // in the thread's 8-record stash and are written when that call
                                // ends; dropped are the 9th and later in one call, one whose
                                // arguments need the heap, one during the thread's first call
                                // (setting up its state) or after its exit gave that state back
  std::uint64_t ring_bytes;     // ring memory in use now, all threads (a ring's pages are given
                                // back once the backend has left it, or it was idle for 1 s)
  std::uint64_t rings_retired;  // rings larger than a page given back after 1 s without records
  std::uint64_t rings_enlarged; // larger rings the backend made for threads that log steadily
};
counters get_counters() noexcept;

// Asks every file sink to reopen its path now (after logrotate moved the file away, or a
// directory was recreated). Async-signal-safe: may be called from a SIGHUP handler.
void reopen() noexcept;

}  // namespace v0
}  // namespace gidlog

// The logging macros; see README "Configuration" for the table. Each is one statement, checks its
// logger's level with one relaxed load before anything else, and evaluates its arguments only
// when it makes a record:
//   LOG_INFO(fmt, args...)                  the root logger (options::name)
//   LOGGER_INFO(lg, fmt, args...)           a named logger (gidlog::get_logger)
//   LOG_INFO_IF(cond, fmt, args...)         when cond holds (evaluated after the level check)
//   LOG_INFO_EVERY_N(n, fmt, args...)       calls 0, n, 2n, ... of this site (all threads)
//   LOG_INFO_FIRST_N(n, fmt, args...)       the first n calls of this site
//   LOG_INFO_EVERY(period, fmt, args...)    at most once per period (a std::chrono duration)
// EVERY_N and EVERY append " (suppressed N)" to the message when they skipped N > 0 calls since
// the last one written (JSON: a field "suppressed"). fmt may be gidlog::runtime_format(text).
#define GIDLOG_TRACE(...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::trace GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
#define GIDLOG_LOGGER_TRACE(lg, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::trace, lg GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
#define GIDLOG_TRACE_IF(cond, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::trace GIDLOG_DETAIL_IF_(cond), __VA_ARGS__)
#define GIDLOG_LOGGER_TRACE_IF(lg, cond, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::trace, lg GIDLOG_DETAIL_IF_(cond), __VA_ARGS__)
#define GIDLOG_TRACE_EVERY_N(n, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::trace GIDLOG_DETAIL_EVERY_N_(n), __VA_ARGS__)
#define GIDLOG_LOGGER_TRACE_EVERY_N(lg, n, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::trace, lg GIDLOG_DETAIL_EVERY_N_(n), __VA_ARGS__)
#define GIDLOG_TRACE_FIRST_N(n, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::trace GIDLOG_DETAIL_FIRST_N_(n), __VA_ARGS__)
#define GIDLOG_LOGGER_TRACE_FIRST_N(lg, n, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::trace, lg GIDLOG_DETAIL_FIRST_N_(n), __VA_ARGS__)
#define GIDLOG_TRACE_EVERY(period, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::trace GIDLOG_DETAIL_EVERY_(period), __VA_ARGS__)
#define GIDLOG_LOGGER_TRACE_EVERY(lg, period, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::trace, lg GIDLOG_DETAIL_EVERY_(period), __VA_ARGS__)
#define GIDLOG_DEBUG(...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::debug GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
#define GIDLOG_LOGGER_DEBUG(lg, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::debug, lg GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
#define GIDLOG_DEBUG_IF(cond, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::debug GIDLOG_DETAIL_IF_(cond), __VA_ARGS__)
#define GIDLOG_LOGGER_DEBUG_IF(lg, cond, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::debug, lg GIDLOG_DETAIL_IF_(cond), __VA_ARGS__)
#define GIDLOG_DEBUG_EVERY_N(n, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::debug GIDLOG_DETAIL_EVERY_N_(n), __VA_ARGS__)
#define GIDLOG_LOGGER_DEBUG_EVERY_N(lg, n, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::debug, lg GIDLOG_DETAIL_EVERY_N_(n), __VA_ARGS__)
#define GIDLOG_DEBUG_FIRST_N(n, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::debug GIDLOG_DETAIL_FIRST_N_(n), __VA_ARGS__)
#define GIDLOG_LOGGER_DEBUG_FIRST_N(lg, n, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::debug, lg GIDLOG_DETAIL_FIRST_N_(n), __VA_ARGS__)
#define GIDLOG_DEBUG_EVERY(period, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::debug GIDLOG_DETAIL_EVERY_(period), __VA_ARGS__)
#define GIDLOG_LOGGER_DEBUG_EVERY(lg, period, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::debug, lg GIDLOG_DETAIL_EVERY_(period), __VA_ARGS__)
#define GIDLOG_INFO(...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::info GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
#define GIDLOG_LOGGER_INFO(lg, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::info, lg GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
#define GIDLOG_INFO_IF(cond, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::info GIDLOG_DETAIL_IF_(cond), __VA_ARGS__)
#define GIDLOG_LOGGER_INFO_IF(lg, cond, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::info, lg GIDLOG_DETAIL_IF_(cond), __VA_ARGS__)
#define GIDLOG_INFO_EVERY_N(n, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::info GIDLOG_DETAIL_EVERY_N_(n), __VA_ARGS__)
#define GIDLOG_LOGGER_INFO_EVERY_N(lg, n, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::info, lg GIDLOG_DETAIL_EVERY_N_(n), __VA_ARGS__)
#define GIDLOG_INFO_FIRST_N(n, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::info GIDLOG_DETAIL_FIRST_N_(n), __VA_ARGS__)
#define GIDLOG_LOGGER_INFO_FIRST_N(lg, n, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::info, lg GIDLOG_DETAIL_FIRST_N_(n), __VA_ARGS__)
#define GIDLOG_INFO_EVERY(period, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::info GIDLOG_DETAIL_EVERY_(period), __VA_ARGS__)
#define GIDLOG_LOGGER_INFO_EVERY(lg, period, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::info, lg GIDLOG_DETAIL_EVERY_(period), __VA_ARGS__)
#define GIDLOG_WARN(...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::warn GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
#define GIDLOG_LOGGER_WARN(lg, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::warn, lg GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
#define GIDLOG_WARN_IF(cond, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::warn GIDLOG_DETAIL_IF_(cond), __VA_ARGS__)
#define GIDLOG_LOGGER_WARN_IF(lg, cond, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::warn, lg GIDLOG_DETAIL_IF_(cond), __VA_ARGS__)
#define GIDLOG_WARN_EVERY_N(n, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::warn GIDLOG_DETAIL_EVERY_N_(n), __VA_ARGS__)
#define GIDLOG_LOGGER_WARN_EVERY_N(lg, n, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::warn, lg GIDLOG_DETAIL_EVERY_N_(n), __VA_ARGS__)
#define GIDLOG_WARN_FIRST_N(n, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::warn GIDLOG_DETAIL_FIRST_N_(n), __VA_ARGS__)
#define GIDLOG_LOGGER_WARN_FIRST_N(lg, n, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::warn, lg GIDLOG_DETAIL_FIRST_N_(n), __VA_ARGS__)
#define GIDLOG_WARN_EVERY(period, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::warn GIDLOG_DETAIL_EVERY_(period), __VA_ARGS__)
#define GIDLOG_LOGGER_WARN_EVERY(lg, period, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::warn, lg GIDLOG_DETAIL_EVERY_(period), __VA_ARGS__)
#define GIDLOG_ERROR(...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::error GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
#define GIDLOG_LOGGER_ERROR(lg, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::error, lg GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
#define GIDLOG_ERROR_IF(cond, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::error GIDLOG_DETAIL_IF_(cond), __VA_ARGS__)
#define GIDLOG_LOGGER_ERROR_IF(lg, cond, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::error, lg GIDLOG_DETAIL_IF_(cond), __VA_ARGS__)
#define GIDLOG_ERROR_EVERY_N(n, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::error GIDLOG_DETAIL_EVERY_N_(n), __VA_ARGS__)
#define GIDLOG_LOGGER_ERROR_EVERY_N(lg, n, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::error, lg GIDLOG_DETAIL_EVERY_N_(n), __VA_ARGS__)
#define GIDLOG_ERROR_FIRST_N(n, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::error GIDLOG_DETAIL_FIRST_N_(n), __VA_ARGS__)
#define GIDLOG_LOGGER_ERROR_FIRST_N(lg, n, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::error, lg GIDLOG_DETAIL_FIRST_N_(n), __VA_ARGS__)
#define GIDLOG_ERROR_EVERY(period, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::error GIDLOG_DETAIL_EVERY_(period), __VA_ARGS__)
#define GIDLOG_LOGGER_ERROR_EVERY(lg, period, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::error, lg GIDLOG_DETAIL_EVERY_(period), __VA_ARGS__)
#define GIDLOG_FATAL(...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::fatal GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
#define GIDLOG_LOGGER_FATAL(lg, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::fatal, lg GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
#define GIDLOG_FATAL_IF(cond, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::fatal GIDLOG_DETAIL_IF_(cond), __VA_ARGS__)
#define GIDLOG_LOGGER_FATAL_IF(lg, cond, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::fatal, lg GIDLOG_DETAIL_IF_(cond), __VA_ARGS__)
#define GIDLOG_FATAL_EVERY_N(n, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::fatal GIDLOG_DETAIL_EVERY_N_(n), __VA_ARGS__)
#define GIDLOG_LOGGER_FATAL_EVERY_N(lg, n, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::fatal, lg GIDLOG_DETAIL_EVERY_N_(n), __VA_ARGS__)
#define GIDLOG_FATAL_FIRST_N(n, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::fatal GIDLOG_DETAIL_FIRST_N_(n), __VA_ARGS__)
#define GIDLOG_LOGGER_FATAL_FIRST_N(lg, n, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::fatal, lg GIDLOG_DETAIL_FIRST_N_(n), __VA_ARGS__)
#define GIDLOG_FATAL_EVERY(period, ...) GIDLOG_DETAIL_ROOT_I_(::gidlog::level::fatal GIDLOG_DETAIL_EVERY_(period), __VA_ARGS__)
#define GIDLOG_LOGGER_FATAL_EVERY(lg, period, ...) GIDLOG_DETAIL_NAMED_I_(::gidlog::level::fatal, lg GIDLOG_DETAIL_EVERY_(period), __VA_ARGS__)

#ifndef GIDLOG_NO_SHORT_MACROS
#define LOG_TRACE(...) GIDLOG_TRACE(__VA_ARGS__)
#define LOGGER_TRACE(lg, ...) GIDLOG_LOGGER_TRACE(lg, __VA_ARGS__)
#define LOG_TRACE_IF(cond, ...) GIDLOG_TRACE_IF(cond, __VA_ARGS__)
#define LOGGER_TRACE_IF(lg, cond, ...) GIDLOG_LOGGER_TRACE_IF(lg, cond, __VA_ARGS__)
#define LOG_TRACE_EVERY_N(n, ...) GIDLOG_TRACE_EVERY_N(n, __VA_ARGS__)
#define LOGGER_TRACE_EVERY_N(lg, n, ...) GIDLOG_LOGGER_TRACE_EVERY_N(lg, n, __VA_ARGS__)
#define LOG_TRACE_FIRST_N(n, ...) GIDLOG_TRACE_FIRST_N(n, __VA_ARGS__)
#define LOGGER_TRACE_FIRST_N(lg, n, ...) GIDLOG_LOGGER_TRACE_FIRST_N(lg, n, __VA_ARGS__)
#define LOG_TRACE_EVERY(period, ...) GIDLOG_TRACE_EVERY(period, __VA_ARGS__)
#define LOGGER_TRACE_EVERY(lg, period, ...) GIDLOG_LOGGER_TRACE_EVERY(lg, period, __VA_ARGS__)
#define LOG_DEBUG(...) GIDLOG_DEBUG(__VA_ARGS__)
#define LOGGER_DEBUG(lg, ...) GIDLOG_LOGGER_DEBUG(lg, __VA_ARGS__)
#define LOG_DEBUG_IF(cond, ...) GIDLOG_DEBUG_IF(cond, __VA_ARGS__)
#define LOGGER_DEBUG_IF(lg, cond, ...) GIDLOG_LOGGER_DEBUG_IF(lg, cond, __VA_ARGS__)
#define LOG_DEBUG_EVERY_N(n, ...) GIDLOG_DEBUG_EVERY_N(n, __VA_ARGS__)
#define LOGGER_DEBUG_EVERY_N(lg, n, ...) GIDLOG_LOGGER_DEBUG_EVERY_N(lg, n, __VA_ARGS__)
#define LOG_DEBUG_FIRST_N(n, ...) GIDLOG_DEBUG_FIRST_N(n, __VA_ARGS__)
#define LOGGER_DEBUG_FIRST_N(lg, n, ...) GIDLOG_LOGGER_DEBUG_FIRST_N(lg, n, __VA_ARGS__)
#define LOG_DEBUG_EVERY(period, ...) GIDLOG_DEBUG_EVERY(period, __VA_ARGS__)
#define LOGGER_DEBUG_EVERY(lg, period, ...) GIDLOG_LOGGER_DEBUG_EVERY(lg, period, __VA_ARGS__)
#define LOG_INFO(...) GIDLOG_INFO(__VA_ARGS__)
#define LOGGER_INFO(lg, ...) GIDLOG_LOGGER_INFO(lg, __VA_ARGS__)
#define LOG_INFO_IF(cond, ...) GIDLOG_INFO_IF(cond, __VA_ARGS__)
#define LOGGER_INFO_IF(lg, cond, ...) GIDLOG_LOGGER_INFO_IF(lg, cond, __VA_ARGS__)
#define LOG_INFO_EVERY_N(n, ...) GIDLOG_INFO_EVERY_N(n, __VA_ARGS__)
#define LOGGER_INFO_EVERY_N(lg, n, ...) GIDLOG_LOGGER_INFO_EVERY_N(lg, n, __VA_ARGS__)
#define LOG_INFO_FIRST_N(n, ...) GIDLOG_INFO_FIRST_N(n, __VA_ARGS__)
#define LOGGER_INFO_FIRST_N(lg, n, ...) GIDLOG_LOGGER_INFO_FIRST_N(lg, n, __VA_ARGS__)
#define LOG_INFO_EVERY(period, ...) GIDLOG_INFO_EVERY(period, __VA_ARGS__)
#define LOGGER_INFO_EVERY(lg, period, ...) GIDLOG_LOGGER_INFO_EVERY(lg, period, __VA_ARGS__)
#define LOG_WARN(...) GIDLOG_WARN(__VA_ARGS__)
#define LOGGER_WARN(lg, ...) GIDLOG_LOGGER_WARN(lg, __VA_ARGS__)
#define LOG_WARN_IF(cond, ...) GIDLOG_WARN_IF(cond, __VA_ARGS__)
#define LOGGER_WARN_IF(lg, cond, ...) GIDLOG_LOGGER_WARN_IF(lg, cond, __VA_ARGS__)
#define LOG_WARN_EVERY_N(n, ...) GIDLOG_WARN_EVERY_N(n, __VA_ARGS__)
#define LOGGER_WARN_EVERY_N(lg, n, ...) GIDLOG_LOGGER_WARN_EVERY_N(lg, n, __VA_ARGS__)
#define LOG_WARN_FIRST_N(n, ...) GIDLOG_WARN_FIRST_N(n, __VA_ARGS__)
#define LOGGER_WARN_FIRST_N(lg, n, ...) GIDLOG_LOGGER_WARN_FIRST_N(lg, n, __VA_ARGS__)
#define LOG_WARN_EVERY(period, ...) GIDLOG_WARN_EVERY(period, __VA_ARGS__)
#define LOGGER_WARN_EVERY(lg, period, ...) GIDLOG_LOGGER_WARN_EVERY(lg, period, __VA_ARGS__)
#define LOG_ERROR(...) GIDLOG_ERROR(__VA_ARGS__)
#define LOGGER_ERROR(lg, ...) GIDLOG_LOGGER_ERROR(lg, __VA_ARGS__)
#define LOG_ERROR_IF(cond, ...) GIDLOG_ERROR_IF(cond, __VA_ARGS__)
#define LOGGER_ERROR_IF(lg, cond, ...) GIDLOG_LOGGER_ERROR_IF(lg, cond, __VA_ARGS__)
#define LOG_ERROR_EVERY_N(n, ...) GIDLOG_ERROR_EVERY_N(n, __VA_ARGS__)
#define LOGGER_ERROR_EVERY_N(lg, n, ...) GIDLOG_LOGGER_ERROR_EVERY_N(lg, n, __VA_ARGS__)
#define LOG_ERROR_FIRST_N(n, ...) GIDLOG_ERROR_FIRST_N(n, __VA_ARGS__)
#define LOGGER_ERROR_FIRST_N(lg, n, ...) GIDLOG_LOGGER_ERROR_FIRST_N(lg, n, __VA_ARGS__)
#define LOG_ERROR_EVERY(period, ...) GIDLOG_ERROR_EVERY(period, __VA_ARGS__)
#define LOGGER_ERROR_EVERY(lg, period, ...) GIDLOG_LOGGER_ERROR_EVERY(lg, period, __VA_ARGS__)
#define LOG_FATAL(...) GIDLOG_FATAL(__VA_ARGS__)
#define LOGGER_FATAL(lg, ...) GIDLOG_LOGGER_FATAL(lg, __VA_ARGS__)
#define LOG_FATAL_IF(cond, ...) GIDLOG_FATAL_IF(cond, __VA_ARGS__)
#define LOGGER_FATAL_IF(lg, cond, ...) GIDLOG_LOGGER_FATAL_IF(lg, cond, __VA_ARGS__)
#define LOG_FATAL_EVERY_N(n, ...) GIDLOG_FATAL_EVERY_N(n, __VA_ARGS__)
#define LOGGER_FATAL_EVERY_N(lg, n, ...) GIDLOG_LOGGER_FATAL_EVERY_N(lg, n, __VA_ARGS__)
#define LOG_FATAL_FIRST_N(n, ...) GIDLOG_FATAL_FIRST_N(n, __VA_ARGS__)
#define LOGGER_FATAL_FIRST_N(lg, n, ...) GIDLOG_LOGGER_FATAL_FIRST_N(lg, n, __VA_ARGS__)
#define LOG_FATAL_EVERY(period, ...) GIDLOG_FATAL_EVERY(period, __VA_ARGS__)
#define LOGGER_FATAL_EVERY(lg, period, ...) GIDLOG_LOGGER_FATAL_EVERY(lg, period, __VA_ARGS__)
#endif
