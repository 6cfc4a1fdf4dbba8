#pragma once
// gidlog::options: every run-time setting, with its default. gidlog::start() validates them on
// the caller's thread and throws std::invalid_argument naming the field. Also a named logger's
// logger_options. <gidlog/gidlog.h> includes this header; <gidlog/log.h>, for files that only
// log, declares start(const options&) without it.
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <gidlog/level.h>
#include <gidlog/sinks/sink.h>
// Only sinks/sink.h is needed here. options.h declared console_sink and file_sink before they had
// headers of their own, so it keeps declaring them until 0.3, like the moved headers' old paths.
#include <gidlog/sinks/console.h>
#include <gidlog/sinks/file.h>

namespace gidlog {
inline namespace v0 {

// What a LOG_* call does when the queue is full.
enum class queue_policy : std::uint8_t {
  block,  // wait for the backend to make room (default): nothing is lost, the caller may stall
  drop,   // discard the record and count it; the backend writes "gidlog: N records dropped"
  grow,   // allocate more queue memory, up to options::grow_max_bytes, then block
};

// The backtrace ring of each logger (spdlog's enable_backtrace, Quill's LOG_BACKTRACE).
struct backtrace_options {
  // Records kept per logger; 0: no ring (records below the level are discarded). At most 2^20.
  std::size_t capacity = 0;
  // The first record at or above this level writes the logger's ring just before itself.
  gidlog::level trigger = gidlog::level::error;
  // The lowest level kept: records from here up to (not including) the logger's level are
  // encoded and sent to the backend, which keeps the newest `capacity` of them per logger
  // without formatting them. Each costs about what a written record costs on the caller.
  gidlog::level keep_from = gidlog::level::trace;
};

// A named logger's own sinks (gidlog::get_logger(name, opt), logger::configure; see
// <gidlog/logger.h>).
struct logger_options {
  // Sinks for this logger's records, written with the global pattern. Each must be non-null.
  std::vector<sink_ptr> sinks;
  // Whether its records also go to the global sinks (options::sinks).
  bool additive = true;
};

struct options {
  // Where lines go. Empty: one console_sink() on stdout. Each must be non-null.
  std::vector<sink_ptr> sinks;

  // Records below this level are discarded on the caller with one relaxed load.
  // The environment variable GIDLOG_LEVEL overrides it: a level (trace|debug|info|warn|error|
  // fatal|off), then optionally per-logger levels: "info,db=debug,http=warn". A part that does
  // not parse is reported (error_handler, else stderr) and skipped; the others apply.
  gidlog::level level = gidlog::level::info;

  // A record at or above this level makes the backend flush every sink right after writing it.
  gidlog::level flush_on = gidlog::level::error;

  // Records each logging thread may have queued (at least 64, rounded up to a power of two).
  // Every thread that logs has a ring of its own, made when it first logs with room for 64 records
  // (4 KiB, one page: a thread that logs now and then costs about that). Under a burst a full ring
  // is followed by one twice its size, up to queue_capacity records (2 MiB at the default: rings of
  // 2 MiB are asked for transparent huge pages), so a burst does not wait for the backend while a
  // ring can grow; past queue_capacity the thread's queue_policy applies, for its thread alone.
  // A ring larger than the first that has been empty for 1 s gives its memory back, and its thread
  // starts again with a small one at its next record.
  std::size_t queue_capacity = 32 * 1024;

  // See queue_policy.
  gidlog::queue_policy queue_policy = gidlog::queue_policy::block;

  // queue_policy::grow only: the most ring memory in bytes, all threads together, for rings grown
  // past queue_capacity; at the cap a full ring's thread blocks. At least queue_capacity x
  // GIDLOG_RECORD_SIZE.
  std::size_t grow_max_bytes = std::size_t{256} << 20;

  // Line layout. Flags:
  //   %Y year  %m month  %d day  %H hour  %M minute  %S second (local time, or UTC with `utc`)
  //   %e milliseconds (3 digits)  %f microseconds (6)  %F nanoseconds (9)  %z offset (+0100)
  //   %l level name  %L level letter  %t gid (TID)  %P process id  %n logger name
  //   %s file base name  %g file path  %# line  %! function  %v message  %% a percent sign
  //   %C the context_scope fields as " key=value" pairs (logfmt: quoted when needed); nothing
  //      for a record logged outside any context_scope
  // Default: the Go service layout "[0224/162532.320:INFO:gid-60:expose.go:36] message", then the
  // context, if any: "[0224/162532.320:INFO:gid-60:expose.go:36] message req=r-42 user_id=7".
  // ISO 8601 with microseconds: "%Y-%m-%dT%H:%M:%S.%f%z %l gid-%t %s:%# %v%C".
  std::string pattern = "[%m%d/%H%M%S.%e:%l:gid-%t:%s:%#] %v%C";

  // Format times in UTC instead of local time.
  bool utc = false;

  // Write '\n' and '\r' inside a message as the two characters "\n" / "\r" so one record is
  // always one line. Off by default: the bytes are written as logged.
  bool escape_newlines = false;

  // Logger name for %n: the root logger, that of LOG_* (named loggers: gidlog::get_logger).
  std::string name = "main";

  // Keep records below the level for a backtrace: written when an ERROR comes, or on
  // gidlog::dump_backtrace(). See backtrace_options. Off by default (capacity 0).
  backtrace_options backtrace;

  // How long the backend sleeps between polls of the rings while records come; 0 spins (burns a
  // core while records come). At most 100 ms.
  std::chrono::microseconds backend_sleep{200};

  // While records come slowly (each poll finds every ring less than a quarter full) the backend
  // doubles its sleep, up to this; it goes back to backend_sleep as soon as a poll finds a ring
  // half full. Fewer wake-ups leave the cores to the service. A record at flush_on or above wakes
  // a backend in such a longer sleep at once. Below backend_sleep it is backend_sleep. At most 100 ms.
  std::chrono::microseconds backend_sleep_max{4'000};

  // After this long without a record the backend stops polling and sleeps until the next record
  // (or flush(), stop(), a crash, reopen()) wakes it: an idle logger costs no CPU and no wake-ups.
  // The first record after that pays a futex wake (a system call, about a microsecond) on its
  // thread and is written within about a millisecond; the records after it do not. At most 10 s.
  std::chrono::microseconds backend_idle{20'000};

  // Called on the backend thread for errors of sinks and formatting, already rate-limited.
  // Default: a line on stderr starting "gidlog: ".
  std::function<void(std::string_view)> error_handler;

  // ---- crashes, exit and broken sinks -------------------------------------------------------

  // Install the crash handler at start() (removed by stop()): on a fatal signal from
  // `crash_signals`, an uncaught exception (std::terminate) or quick_exit(), write one FATAL
  // record (signal, code, address, gid, thread name, backtrace), drain every record already
  // queued to every sink within `crash_drain_timeout`, then restore the previous handler and
  // re-raise, so the exit status, core dumps and an earlier handler (a sanitizer, a crash
  // reporter) stay as they were. See README "Nothing is lost".
  bool crash_handler = true;

  // Signals the crash handler takes. Default: SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT. At most
  // 16. (SIGTERM and SIGINT drain without a crash record: see stop_signals.)
  std::vector<int> crash_signals = default_crash_signals();

  // Signals that stop the process after the log is drained (with crash_handler; installed by
  // start(), removed by stop()). Default: SIGTERM (systemd, Docker, Kubernetes) and SIGINT
  // (Ctrl-C). Each one whose action is still the default (SIG_DFL) at start() gets a handler that
  // writes one WARN record, "gidlog: stopped by SIGTERM from pid 1", then every record already
  // queued (bounded by crash_drain_timeout), then puts the default action back and raises the
  // signal again, so the process ends as it would have (killed by the signal). A signal the
  // application handles or ignores at start() is left alone, never replaced; one also in
  // crash_signals is a crash. Empty: none. At most 16.
  std::vector<int> stop_signals = default_stop_signals();

  // The most time a crash may spend writing what is queued before the process dies anyway, so a
  // wedged sink cannot keep a dead process alive. Between 1 ms and 10 min.
  std::chrono::milliseconds crash_drain_timeout{2000};

  // The most time stop() (which also runs at exit) waits for the backend to write what is queued.
  // When it runs out, stop() gives up, says on stderr how many records could not be written and
  // counts them in get_counters().unwritten. 0: wait as long as it takes.
  std::chrono::milliseconds stop_timeout{5000};

  // Bytes a failing sink may keep for its retries. Past it, the oldest kept lines are dropped and
  // counted; when the sink recovers, a line says how many it lost. At least 4096.
  std::size_t sink_backlog_bytes = std::size_t{64} << 20;

  // How often file sinks check that their path still names the file they write (it was deleted,
  // or moved away by logrotate) and reopen it, creating the directory entry again. 0: never;
  // gidlog::reopen() asks for it at once (e.g. from a SIGHUP handler or logrotate's postrotate).
  std::chrono::milliseconds reopen_check{1000};

  // ---- introspection ------------------------------------------------------------------------

  // On SIGQUIT (Ctrl-\, kill -QUIT), write threads::profile(2) and tasks::profile(2) to stderr
  // and to the log (one WARN record), and keep running -- unlike Go, whose runtime dumps its
  // goroutines and exits. The handler only writes a byte to a pipe; the thread "gidlog-sigquit"
  // takes the profiles. Installed by start(), removed by stop(), which put the previous SIGQUIT
  // action back. Must not be combined with SIGQUIT in crash_signals.
  bool dump_on_sigquit = false;

  static std::vector<int> default_crash_signals() { return {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}; }
  static std::vector<int> default_stop_signals() { return {SIGTERM, SIGINT}; }
};

}  // namespace v0
}  // namespace gidlog
