#pragma once
// gidlog: asynchronous structured logging for C++20 services on Linux. Everything a service
// needs comes from this header.
//
//   gidlog::options opt;
//   opt.sinks = {gidlog::file_sink("app.log"), gidlog::console_sink()};
//   gidlog::start(opt);
//   LOG_INFO("listening on {}", port);   // [1130/091502.117:INFO:gid-4711:main.cpp:12] listening on 8080
//   gidlog::stop();                      // also runs at exit
//
// Threading: every function here may be called from any thread. LOG_* never blocks except
// under queue_policy::block with a full queue, never throws and never allocates for built-in
// argument types (arithmetic, bool, char, pointers, C strings, std::string, std::string_view).
// Any other formattable type is formatted on the calling thread, so a reference it holds can
// never dangle by the time the backend writes the line.
#include <cstdint>

#include <gidlog/config.h>
#include <gidlog/context.h>
#include <gidlog/detail/frontend.h>
#include <gidlog/file_sinks.h>
#include <gidlog/gid.h>
#include <gidlog/level.h>
#include <gidlog/options.h>
#include <gidlog/sink.h>
#include <gidlog/syslog_sink.h>
#include <gidlog/version.h>

namespace gidlog {
inline namespace v0 {

// Validates `opt` and starts the backend thread "gidlog-backend". Throws std::invalid_argument
// naming the field (e.g. "gidlog::options::queue_capacity: must be at least 64") and starts
// nothing when an option is invalid; throws std::logic_error when already running. Registers
// stop() to run at exit. GIDLOG_LEVEL in the environment overrides opt.level.
void start(const options& opt = {});

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
                                // call on the same thread: dropped, never mixed or deadlocked
};
counters get_counters() noexcept;

// Asks every file sink to reopen its path now (after logrotate moved the file away, or a
// directory was recreated). Async-signal-safe: may be called from a SIGHUP handler.
void reopen() noexcept;

}  // namespace v0
}  // namespace gidlog

#define GIDLOG_TRACE(...) GIDLOG_LOG(::gidlog::level::trace, __VA_ARGS__)
#define GIDLOG_DEBUG(...) GIDLOG_LOG(::gidlog::level::debug, __VA_ARGS__)
#define GIDLOG_INFO(...) GIDLOG_LOG(::gidlog::level::info, __VA_ARGS__)
#define GIDLOG_WARN(...) GIDLOG_LOG(::gidlog::level::warn, __VA_ARGS__)
#define GIDLOG_ERROR(...) GIDLOG_LOG(::gidlog::level::error, __VA_ARGS__)
#define GIDLOG_FATAL(...) GIDLOG_LOG(::gidlog::level::fatal, __VA_ARGS__)

#ifndef GIDLOG_NO_SHORT_MACROS
#define LOG_TRACE(...) GIDLOG_TRACE(__VA_ARGS__)
#define LOG_DEBUG(...) GIDLOG_DEBUG(__VA_ARGS__)
#define LOG_INFO(...) GIDLOG_INFO(__VA_ARGS__)
#define LOG_WARN(...) GIDLOG_WARN(__VA_ARGS__)
#define LOG_ERROR(...) GIDLOG_ERROR(__VA_ARGS__)
#define LOG_FATAL(...) GIDLOG_FATAL(__VA_ARGS__)
#endif

// The worker pool, limiter, task registry and leak checks a service logs with.
#include <gidlog/runtime.h>

// Every thread's state and stack, thread-leak checks, and the HTTP debug endpoint.
#include <gidlog/introspect.h>
