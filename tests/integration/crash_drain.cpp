// The crash handler's drain, each scenario in a child process (tests/support/child_process.h): the
// parent reads the file the child left and its wait status.
//
// Crashes: a null write (SIGSEGV), abort(), SIGTERM, an uncaught exception, quick_exit(3) and a
// SIGSEGV on the backend thread inside a sink. Each child logs K records from two threads (all
// still queued: the backend sleeps 50 ms between polls and nothing flushes), one ERROR, then
// crashes. The file must hold every record once in per-thread order, the ERROR, then exactly one
// FATAL "crash: ..." record with a backtrace naming the crashing function; the child must die as
// it would have without gidlog (same signal, or quick_exit's status). Then a thread that logs
// through the crash (or a stop signal): every LOG_* call that returned must be in the file.
// LOG_FATAL is crash_fatal.cpp's, logging from signal handlers crash_signal_storm.cpp's.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gidlog/gidlog.h>

#include "child_process.h"
#include "log_capture.h"
#include "log_lines.h"

using gidlog_test::child_env;
using gidlog_test::log_record;
using gidlog_test::run_child;

// ---- functions that crash -----------------------------------------------------------------------
// Exported (the executable is linked with ENABLE_EXPORTS), not static, not inlined: the crash
// handler names frames with libdw, or with dladdr() alone (a crash on the backend thread, or a
// build without libdw), so these names must appear in the backtrace either way
// (crash_symbols.cpp checks libdw's names for an executable that exports nothing). Each kills the
// process through a volatile function pointer and then does something more, so the call is
// neither a tail call (the frame would be gone) nor a noreturn call at the function's end (its
// return address would fall on the next function's symbol).

[[gnu::noinline]] void crash_by_null_write();
[[gnu::noinline]] void crash_by_abort();
[[gnu::noinline]] void crash_by_sigterm();
[[gnu::noinline]] void crash_by_uncaught_exception();
[[gnu::noinline]] void crash_by_quick_exit();
[[gnu::noinline]] void crash_in_sink_write();

namespace {
volatile int g_after_crash = 0;
int* volatile g_null = nullptr;
void (*volatile g_abort)() = [] { std::abort(); };
int (*volatile g_raise)(int) = [](int sig) { return ::raise(sig); };
void (*volatile g_quick_exit)(int) = [](int code) { std::quick_exit(code); };
void (*volatile g_throw)(const char*) = [](const char* what) { throw std::runtime_error(what); };
}  // namespace

// The null writes are the point: UBSan must not turn them into its own report and exit.
__attribute__((no_sanitize("undefined"))) void crash_by_null_write() {
  *g_null = 1;
  g_after_crash = g_after_crash + 1;
}
void crash_by_abort() {
  g_abort();
  g_after_crash = g_after_crash + 1;
}
void crash_by_sigterm() {
  // raise(): the signal is delivered to this thread, so the backtrace is this thread's.
  g_raise(SIGTERM);
  g_after_crash = g_after_crash + 1;
}
void crash_by_uncaught_exception() {
  // Thrown on the main thread with no handler anywhere: std::terminate runs with this frame
  // still on the stack (no unwinding happens when no handler is found).
  g_throw("disk on fire in crash_by_uncaught_exception");
  g_after_crash = g_after_crash + 1;
}
void crash_by_quick_exit() {
  g_quick_exit(3);
  g_after_crash = g_after_crash + 1;
}
__attribute__((no_sanitize("undefined"))) void crash_in_sink_write() {
  *g_null = 2;
  g_after_crash = g_after_crash + 1;
}

// A sink that dereferences null when it is handed the marker line: a crash on the backend thread,
// with the backend holding whatever it holds while it writes.
struct crashing_sink final : gidlog::sink {
  void write(const gidlog::log_line& line) override {
    if (line.message == "CRASH-IN-SINK") crash_in_sink_write();
  }
};

// A second broken sink: it crashes on the crash record itself, so the backend crashes again
// while the crash handler drains on it.
struct crashes_on_crash_record final : gidlog::sink {
  void write(const gidlog::log_line& line) override {
    if (line.message.rfind("crash: ", 0) == 0) crash_in_sink_write();
  }
};

namespace {

constexpr int k_per_thread = 5000;  // K = 10000 records from two threads
const char* const last_words = "last words before the crash";

enum class crash_kind { segv, abort, sigterm, uncaught, quick_exit, backend_segv, backend_segv_twice, two_threads };

// The TID of the thread named "gidlog-backend" (it names itself when it begins to run).
unsigned long backend_tid() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (DIR* d = ::opendir("/proc/self/task")) {
      unsigned long found = 0;
      while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::string comm = gidlog_test::read_file(std::string("/proc/self/task/") + e->d_name + "/comm");
        if (comm.rfind("gidlog-backend", 0) == 0) found = std::stoul(e->d_name);
      }
      ::closedir(d);
      if (found != 0) return found;
    }
    std::this_thread::yield();
  }
  return 0;
}

int crash_child(crash_kind kind) {
  pthread_setname_np(pthread_self(), "crash-main");
  gidlog::options opt;
  auto file = gidlog::file_sink(child_env("GIDLOG_TEST_LOG"), {.truncate = true});
  if (kind == crash_kind::backend_segv) {
    opt.sinks = {std::make_shared<crashing_sink>(), file};  // the file sink comes second
  } else if (kind == crash_kind::backend_segv_twice) {
    opt.sinks = {std::make_shared<crashing_sink>(), std::make_shared<crashes_on_crash_record>(), file};
  } else {
    opt.sinks = {file};
  }
  if (kind == crash_kind::sigterm) opt.crash_signals.push_back(SIGTERM);
  // The backend polls every 50 ms and nothing asks for a flush, so when the crash comes most
  // records are still queued (or buffered in the file sink): the handler must drain them.
  opt.backend_sleep = std::chrono::milliseconds(50);
  opt.flush_on = gidlog::level::off;
  gidlog::start(opt);
  if (kind == crash_kind::backend_segv || kind == crash_kind::backend_segv_twice)
    LOG_INFO("backend tid {}", backend_tid());

  auto burst = [](int t) {
    for (int i = 0; i < k_per_thread; ++i) LOG_INFO("t{} {}", t, i);
  };
  std::thread a(burst, 0), b(burst, 1);
  a.join();
  b.join();
  LOG_ERROR("{}", last_words);

  switch (kind) {
    case crash_kind::segv: crash_by_null_write(); break;
    case crash_kind::abort: crash_by_abort(); break;
    case crash_kind::sigterm: crash_by_sigterm(); break;
    case crash_kind::uncaught: crash_by_uncaught_exception(); break;
    case crash_kind::quick_exit: crash_by_quick_exit(); break;
    case crash_kind::backend_segv:
    case crash_kind::backend_segv_twice:
      LOG_WARN("CRASH-IN-SINK");
      for (;;) ::pause();  // the backend takes the process down
    case crash_kind::two_threads: {
      // Two threads fault at the same moment: one writes the log, the other waits for it.
      static std::atomic<bool> go{false};
      std::thread other([] {
        pthread_setname_np(pthread_self(), "crash-main");
        while (!go.load()) {
        }
        crash_by_null_write();
      });
      go.store(true);
      crash_by_null_write();
      other.join();
      break;
    }
  }
  return 0;  // not reached when the crash works
}

}  // namespace

GIDLOG_CHILD_SCENARIO(crash_segv) { return crash_child(crash_kind::segv); }
GIDLOG_CHILD_SCENARIO(crash_abort) { return crash_child(crash_kind::abort); }
GIDLOG_CHILD_SCENARIO(crash_sigterm) { return crash_child(crash_kind::sigterm); }
GIDLOG_CHILD_SCENARIO(crash_uncaught) { return crash_child(crash_kind::uncaught); }
GIDLOG_CHILD_SCENARIO(crash_quick_exit) { return crash_child(crash_kind::quick_exit); }
GIDLOG_CHILD_SCENARIO(crash_backend_segv) { return crash_child(crash_kind::backend_segv); }
GIDLOG_CHILD_SCENARIO(crash_backend_segv_twice) { return crash_child(crash_kind::backend_segv_twice); }
GIDLOG_CHILD_SCENARIO(crash_two_threads) { return crash_child(crash_kind::two_threads); }

namespace {

struct crash_expectation {
  const char* scenario;
  int signal;                          // the child dies by this signal, or
  int exit_code;                       // (signal == 0) exits with this status
  const char* message_prefix;          // the FATAL record's message starts with this
  std::vector<std::string> contains;   // ... and contains these
  const char* function;                // named in the backtrace
  bool on_backend;                     // the crash is on the backend thread
  bool any_thread = false;             // the crashing thread may be another than main
};

const std::regex frame_re(R"(^ *#\d+ +0x[0-9a-fA-F]+ )");

bool is_frame(const log_record& r) {
  return std::regex_search(r.is_record ? r.message : r.text, frame_re);
}

// True when `text` holds `number` as a whole decimal number.
bool has_number(const std::string& text, unsigned long number) {
  std::string n = std::to_string(number);
  for (std::size_t p = text.find(n); p != std::string::npos; p = text.find(n, p + 1)) {
    bool left = p == 0 || !std::isdigit(static_cast<unsigned char>(text[p - 1]));
    bool right = p + n.size() == text.size() || !std::isdigit(static_cast<unsigned char>(text[p + n.size()]));
    if (left && right) return true;
  }
  return false;
}

void check_crash(const crash_expectation& e) {
  std::string path = gidlog_test::temp_path(std::string(e.scenario) + ".log");
  ::unlink(path.c_str());
  auto r = run_child(e.scenario, {.env = {"GIDLOG_TEST_LOG=" + path, gidlog_test::crash_sanitizer_env("ASAN_OPTIONS"),
                                          gidlog_test::crash_sanitizer_env("TSAN_OPTIONS")}});
  auto log = gidlog_test::read_log(path);
  ::unlink(path.c_str());
  INFO("child " << r.describe());
  INFO("last lines of the file:\n" << gidlog_test::tail_of(log, 40));

  // How the child died: as it would have without gidlog.
  if (e.signal != 0) {
    CHECK(r.killed_by(e.signal));
  } else {
    CHECK(r.exited_with(e.exit_code));
  }

  // Every record once, per-thread order; the ERROR after them; exactly one crash record after it.
  int next[2] = {0, 0};
  std::size_t out_of_order = 0, last_words_seen = 0, crash_records = 0;
  std::size_t last_burst_line = 0, last_words_line = 0, crash_line = 0;
  unsigned long backend_gid = 0;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const log_record& l = log[i];
    if (!l.is_record) continue;
    int t = -1, n = -1;
    if (std::sscanf(l.message.c_str(), "t%d %d", &t, &n) == 2 && (t == 0 || t == 1)) {
      if (n != next[t]) ++out_of_order;
      next[t] = n + 1;
      last_burst_line = i;
    } else if (l.message == last_words) {
      ++last_words_seen;
      last_words_line = i;
      CHECK(l.level == "ERROR");
    } else if (l.message.rfind("backend tid ", 0) == 0) {
      backend_gid = std::stoul(l.message.substr(12));
    } else if (l.message.rfind("crash: ", 0) == 0) {
      ++crash_records;
      crash_line = i;
      CHECK(l.level == "FATAL");
    }
  }
  CHECK(next[0] == k_per_thread);  // a record lost at the end of a thread shows here
  CHECK(next[1] == k_per_thread);
  CHECK(out_of_order == 0);  // lost, duplicated or reordered records
  CHECK(last_words_seen == 1);
  REQUIRE(crash_records == 1);
  CHECK(last_burst_line < last_words_line);
  CHECK(last_words_line < crash_line);

  // The crash record: what happened, where, on which thread; then the backtrace, one frame per line.
  const log_record& crash = log[crash_line];
  std::string block = crash.text + "\n";
  std::size_t frames = 0, end = crash_line + 1;
  for (; end < log.size() && (!log[end].is_record || is_frame(log[end])); ++end) {
    block += log[end].text + "\n";
    if (is_frame(log[end])) ++frames;
  }
  INFO("crash record:\n" << block);
  CHECK(crash.message.rfind(e.message_prefix, 0) == 0);
  for (const std::string& s : e.contains) CHECK(crash.message.find(s) != std::string::npos);
  CHECK(frames >= 3);
  CHECK(block.find(e.function) != std::string::npos);  // the backtrace names the crashing function
  if (e.on_backend) {
    CHECK(block.find("gidlog-backend") != std::string::npos);
    CHECK(backend_gid != 0);
    CHECK(has_number(crash.text, backend_gid));
  } else {
    CHECK(block.find("crash-main") != std::string::npos);
    if (!e.any_thread) CHECK(has_number(crash.text, static_cast<unsigned long>(r.pid)));  // main's gid is the pid
  }
  CHECK(end == log.size());  // nothing after the crash record and its backtrace
}

}  // namespace

// Catches: no SIGSEGV handler; a handler that writes the FATAL record but does not drain the queue
// or the file sink's buffer; one that swallows the signal (exit status 0) or exits with another
// status instead of re-raising; a backtrace without symbols.
TEST_CASE("SIGSEGV: every queued record, then one FATAL crash record, then death by SIGSEGV", "[crash]") {
  check_crash({"crash_segv", SIGSEGV, 0, "crash: SIGSEGV", {"SEGV_MAPERR", "address 0x0"}, "crash_by_null_write",
               false});
}

// Catches: SIGABRT not handled, or handled twice (the record written again by a nested abort).
TEST_CASE("abort(): every queued record, one FATAL crash record, death by SIGABRT", "[crash]") {
  check_crash({"crash_abort", SIGABRT, 0, "crash: SIGABRT", {}, "crash_by_abort", false});
}

// Catches: options::crash_signals ignored (SIGTERM added by the user is not handled), or the
// process surviving SIGTERM because the handler returns instead of re-raising.
TEST_CASE("SIGTERM in crash_signals: drained, one FATAL crash record, death by SIGTERM", "[crash]") {
  check_crash({"crash_sigterm", SIGTERM, 0, "crash: SIGTERM", {}, "crash_by_sigterm", false});
}

// Catches: no std::set_terminate handler; a record that does not name the exception's type and
// what(); a second crash record from the abort() that follows terminate.
TEST_CASE("uncaught std::runtime_error: drained, one FATAL crash record naming it, death by SIGABRT",
          "[crash]") {
  check_crash({"crash_uncaught", SIGABRT, 0, "crash: uncaught exception",
               {"std::runtime_error", "disk on fire in crash_by_uncaught_exception"}, "crash_by_uncaught_exception",
               false});
}

// Catches: no at_quick_exit handler (quick_exit runs no atexit handler, so stop() never runs and
// the queue is lost); an exit status other than quick_exit's.
TEST_CASE("quick_exit(3): drained, one FATAL crash record, exit status 3", "[crash]") {
  check_crash({"crash_quick_exit", 0, 3, "crash: quick_exit", {}, "crash_by_quick_exit", false});
}

// Catches: a handler that deadlocks on the lock the crashed backend holds while it writes (the
// writer lock, the sink's), one that waits for the (dead) backend to drain, or one that loses
// what the file sink (the second sink) had buffered.
TEST_CASE("SIGSEGV on the backend thread in a sink: the other sink still gets everything", "[crash]") {
  check_crash({"crash_backend_segv", SIGSEGV, 0, "crash: SIGSEGV", {"SEGV_MAPERR"}, "crash_in_sink_write", true});
}

// Catches: a second crash while the backend drains after its own crash (another sink crashes on
// the crash record) killing the process before the file sink has everything.
TEST_CASE("a second crash in another sink while the backend drains: the file sink still gets everything",
          "[crash]") {
  check_crash({"crash_backend_segv_twice", SIGSEGV, 0, "crash: SIGSEGV", {"SEGV_MAPERR"}, "crash_in_sink_write", true});
}

// Catches: two threads crashing at once writing two crash records, mixing them, or deadlocking.
TEST_CASE("two threads crash at once: one crash record, every queued record, death by SIGSEGV", "[crash]") {
  check_crash({"crash_two_threads", SIGSEGV, 0, "crash: SIGSEGV", {"SEGV_MAPERR"}, "crash_by_null_write", false, true});
}

// ---- a thread that logs through the crash --------------------------------------------------------
// A thread logs numbered records without pause while the main thread crashes (or raises SIGTERM,
// a stop signal: the same drain). After each LOG_INFO returns, it stores the record's number in a
// file the child maps shared (the child is exec'ed, so anonymous shared memory would not reach
// it), which outlives the child: every record up to that number must be in the log. Catches a
// drain that ends when the rings look empty while the thread goes on logging, its calls returning
// until the process dies (issue 21: 256 of 16 129 returned records missing).

namespace {

constexpr long k_logged_before_crash = 5000;

int log_through_crash(int sig) {
  pthread_setname_np(pthread_self(), "crash-main");
  const int fd = ::open(child_env("GIDLOG_TEST_RETURNED").c_str(), O_RDWR);
  if (fd < 0 || ::ftruncate(fd, sizeof(std::atomic<long>)) != 0) return 2;
  void* mem = ::mmap(nullptr, sizeof(std::atomic<long>), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mem == MAP_FAILED) return 3;
  auto* returned = new (mem) std::atomic<long>(0);  // the last number whose LOG_INFO returned
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(child_env("GIDLOG_TEST_LOG"), {.truncate = true})};
  gidlog::start(opt);
  std::thread logger([returned] {
    for (long i = 1;; ++i) {
      LOG_INFO("n {}", i);
      returned->store(i, std::memory_order_release);
    }
  });
  // The parent's deadline bounds this wait.
  while (returned->load(std::memory_order_acquire) < k_logged_before_crash) std::this_thread::yield();
  if (sig == SIGSEGV) crash_by_null_write();
  else crash_by_sigterm();  // to this thread: the logger's thread must not be the one that drains
  logger.join();
  return 0;  // not reached
}

void check_returned_records(const char* scenario, int sig, const char* record_prefix) {
  const std::string path = gidlog_test::temp_path(std::string(scenario) + ".log");
  const std::string returned_path = gidlog_test::temp_path(std::string(scenario) + ".returned");
  ::unlink(path.c_str());
  const int fd = ::open(returned_path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  ::close(fd);
  auto r = run_child(scenario, {.env = {"GIDLOG_TEST_LOG=" + path, "GIDLOG_TEST_RETURNED=" + returned_path,
                                        gidlog_test::crash_sanitizer_env("ASAN_OPTIONS"),
                                        gidlog_test::crash_sanitizer_env("TSAN_OPTIONS")}});
  const std::string bytes = gidlog_test::read_file(returned_path);
  auto log = gidlog_test::read_log(path);
  ::unlink(path.c_str());
  ::unlink(returned_path.c_str());
  INFO("child " << r.describe());
  INFO("last lines of the file:\n" << gidlog_test::tail_of(log, 10));
  CHECK(r.killed_by(sig));
  long returned = 0;
  if (bytes.size() >= sizeof returned) std::memcpy(&returned, bytes.data(), sizeof returned);
  REQUIRE(returned >= k_logged_before_crash);

  std::vector<bool> seen(static_cast<std::size_t>(returned) + 1, false);
  std::size_t drain_records = 0;
  for (const log_record& l : log) {
    if (!l.is_record) continue;
    long n = 0;
    if (std::sscanf(l.message.c_str(), "n %ld", &n) == 1 && n >= 1 && n <= returned) seen[static_cast<std::size_t>(n)] = true;
    if (l.message.rfind(record_prefix, 0) == 0) ++drain_records;
  }
  long missing = 0, first_missing = 0;
  for (long n = returned; n >= 1; --n)
    if (!seen[static_cast<std::size_t>(n)]) {
      ++missing;
      first_missing = n;
    }
  INFO(missing << " of " << returned << " records whose LOG_INFO returned are missing; the first: n " << first_missing);
  CHECK(missing == 0);
  CHECK(drain_records == 1);
}

}  // namespace

GIDLOG_CHILD_SCENARIO(crash_while_logging) { return log_through_crash(SIGSEGV); }
GIDLOG_CHILD_SCENARIO(sigterm_while_logging) { return log_through_crash(SIGTERM); }

// Catches: records whose LOG_* call returned before the process died missing from the file.
TEST_CASE("a thread logging through a crash: every LOG_* call that returned is in the file", "[crash]") {
  check_returned_records("crash_while_logging", SIGSEGV, "crash: SIGSEGV");
}

// The same through a stop signal's drain (options::stop_signals).
TEST_CASE("a thread logging through SIGTERM: every LOG_* call that returned is in the file", "[crash][stop_signals]") {
  check_returned_records("sigterm_while_logging", SIGTERM, "gidlog: stopped by SIGTERM");
}
