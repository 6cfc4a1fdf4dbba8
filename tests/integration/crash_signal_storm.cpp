// Logging from signal handlers: a storm of SIGUSR1 into a thread that logs, with the logger
// running, stopped and never started, and a handler that interrupts a LOG_* call mid-way. Each
// scenario runs in a child process (tests/support/child_process.h), which the parent kills at a
// deadline if it deadlocks; the parent reads the file or stderr the child left.
#include <catch2/catch.hpp>

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <gidlog/gidlog.h>

#include "child_process.h"
#include "log_capture.h"
#include "log_lines.h"

using gidlog_test::child_env;
using gidlog_test::log_record;
using gidlog_test::run_child;

// A LOG_* argument formatted on the caller, inside the call: raises SIGUSR2 on this thread (the
// handler runs before raise() returns), then formats as "raised".
struct raise_usr2 {};
template <>
struct fmt::formatter<raise_usr2> {
  constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
  auto format(raise_usr2, fmt::format_context& ctx) const {
    ::raise(SIGUSR2);
    return fmt::format_to(ctx.out(), "raised");
  }
};

// ---- logging from a signal handler ---------------------------------------------------------------
// SIGUSR1 is delivered 10000 times to a thread that logs continuously; the handler logs too. Every
// handler record is written, whether it interrupted a LOG_* call on the same thread (it waits in
// the thread's stash until that call ends) or other code; none is dropped (get_counters().reentrant
// stays 0: one record per interrupted call, far from the stash's 8). Never a deadlock (the parent
// kills the child after 60 s), never a torn or mixed record, never a lost caller record, the
// handler records in the order they were logged.

namespace {

constexpr int storm_signals = 10000;
// The most records the logging thread writes per signal handled so far, so the run stays within
// the ring (queue_capacity below) and the log within some 10^5 lines, however slowly the signals
// go round on a loaded machine.
constexpr long storm_records_per_signal = 16;
// Long enough to leave the record's inline bytes: the caller's LOG_* allocates a spill.
const std::string storm_text = "0123456789abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ";

std::atomic<int> g_handled{0};
sem_t g_handled_sem;  // posted by the handler (sem_post is async-signal-safe), awaited by the sender

// Set by the logging thread around each of its LOG_* calls (ordered with it by signal fences), so
// the handler knows whether it interrupted a LOG_* call ("in": its record may be dropped) or
// other code ("out": its record must be written). The flag brackets the call with a few
// instructions of margin, so "in" is an over-estimate; "out" is exact.
std::atomic<bool> g_in_log{false};
std::atomic<int> g_in_count{0}, g_out_count{0};
// LOG_* calls the logging thread has finished, and that count when the last handler ran "in" (-1:
// it ran "out"). After a handler that ran "in", the sender waits for the call it interrupted to
// end: one handler record per interrupted call, so the stash (8 records) never overflows here and
// every record must be written (more than 8 in one call is nested_handler's test).
std::atomic<long> g_calls{0};
std::atomic<long> g_hit_call{-1};

void on_usr1(int) {
  const int saved = errno;
  const bool in = g_in_log.load(std::memory_order_relaxed);
  (in ? g_in_count : g_out_count).fetch_add(1, std::memory_order_relaxed);
  g_hit_call.store(in ? g_calls.load(std::memory_order_relaxed) : -1, std::memory_order_relaxed);
  const int n = g_handled.load(std::memory_order_relaxed) + 1;
  LOG_INFO("sig {} {}", n, in ? "in" : "out");
  g_handled.store(n, std::memory_order_release);
  sem_post(&g_handled_sem);
  errno = saved;
}

void logged_call(long i, const std::string& text) {
  g_in_log.store(true, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  LOG_INFO("main {} {}", i, text);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  g_in_log.store(false, std::memory_order_relaxed);
  g_calls.store(g_calls.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

// Work between two LOG_* calls: the signals land both in LOG_* calls and in other code.
volatile unsigned g_busy = 0;
void work_between_logs() {
  for (int k = 0; k < 256; ++k) g_busy = g_busy + 1;
}

enum class storm_mode { running, stopped, never_started };

void start_for(storm_mode mode) {
  if (mode != storm_mode::never_started) {
    gidlog::options opt;
    opt.sinks = {gidlog::file_sink(child_env("GIDLOG_TEST_LOG"), {.truncate = true})};
    // Room for every record of the run: a thread that waits for room in a full ring is not inside
    // its LOG_* call's slot yet, so a handler that lands then logs normally (and safely), which
    // would blur the "in" count below.
    opt.queue_capacity = std::size_t{1} << 18;
    gidlog::start(opt);
    if (mode == storm_mode::stopped) gidlog::stop();  // records now go synchronously to the file
  }
}

int signal_storm(storm_mode mode) {
  start_for(mode);
  // The thread's first LOG_* call sets up its state (the producer, where the stash lives): a
  // handler that interrupts that, once per thread, has nowhere to keep its record and is counted.
  // So the first call is made before the storm.
  long i = 0;
  logged_call(i++, storm_text);
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, nullptr);

  const pthread_t target = pthread_self();
  std::atomic<bool> done{false};
  sem_init(&g_handled_sem, 0, 0);
  // Signals sent while one is pending merge, so the sender waits for each to be handled. A
  // handler that deadlocks leaves it waiting: the parent's deadline catches that.
  std::thread sender([&] {
    for (int k = 1; k <= storm_signals; ++k) {
      pthread_kill(target, SIGUSR1);
      while (sem_wait(&g_handled_sem) != 0 && errno == EINTR) {
      }
      if (const long hit = g_hit_call.load(std::memory_order_relaxed); hit >= 0)
        while (g_calls.load(std::memory_order_acquire) == hit) std::this_thread::yield();
    }
    done.store(true, std::memory_order_release);
  });
  for (; !done.load(std::memory_order_acquire); ++i) {
    logged_call(i, storm_text);
    work_between_logs();
    // Paced by the storm, not by the clock: at most storm_records_per_signal records per signal
    // handled so far. Unpaced, this loop logged for as long as the storm lasted, and on a loaded
    // machine (stress-ng on both cores) the sender's round trips slowed down while this thread
    // kept its pace: a 700 MB log, a ring with no room left, the parent's 60 s deadline passed
    // and the parent then parsing the file for minutes. A signal that lands here is "out".
    while (i + 1 >= storm_records_per_signal * (g_handled.load(std::memory_order_acquire) + 1) &&
           !done.load(std::memory_order_acquire))
      std::this_thread::yield();
  }
  sender.join();
  // One more, while this thread is in no LOG_* call: whatever the storm hit, this handler's record
  // must be written normally.
  pthread_kill(target, SIGUSR1);
  LOG_INFO("summary handled {} reentrant {} main {} in {} out {}", g_handled.load(), gidlog::get_counters().reentrant,
           i, g_in_count.load(), g_out_count.load());
  if (mode == storm_mode::running) gidlog::stop();
  return 0;
}

// Runs a signal-handler scenario's child; its log comes from the file, or from stderr for the
// paths that write there (never started).
struct signal_child {
  gidlog_test::child_result r;
  std::vector<log_record> log;
};
signal_child run_signal_child(const char* scenario, bool to_stderr) {
  std::string path = gidlog_test::temp_path(std::string(scenario) + ".log");
  ::unlink(path.c_str());
  // The handler's record may be formatted and written synchronously, which allocates: unsafe in
  // a handler that interrupts malloc, which these tests' loops never do between their LOG_* calls
  // (and a handler interrupting a LOG_* call is stashed, never allocating). TSan reports every
  // allocation in a handler regardless, so that one report is off here.
  std::string tsan = child_env("TSAN_OPTIONS");
  signal_child c;
  c.r = run_child(scenario, {.env = {"GIDLOG_TEST_LOG=" + path,
                                     "TSAN_OPTIONS=" + tsan + (tsan.empty() ? "" : ":") + "report_signal_unsafe=0"},
                             .deadline = std::chrono::seconds(60)});
  c.log = to_stderr ? gidlog_test::parse_log_text(c.r.err) : gidlog_test::read_log(path);
  ::unlink(path.c_str());
  c.r.err.clear();  // it may be the log itself: too long for the report
  return c;
}

void check_storm(const char* scenario, bool to_stderr) {
  auto [r, log] = run_signal_child(scenario, to_stderr);
  INFO("child " << r.describe());
  INFO("last lines:\n" << gidlog_test::tail_of(log));
  CHECK(r.exited_with(0));

  std::size_t malformed = 0, main_out_of_order = 0, sig_lines = 0, sig_out_lines = 0, sig_duplicates = 0,
              sig_out_of_order = 0, summaries = 0;
  long last_sig = 0;
  std::string first_malformed;
  long next_main = 0, handled = -1, reentrant = -1, main_count = -1, in = -1, out = -1;
  std::set<long> sigs;
  const std::string main_suffix = " " + storm_text;
  for (const log_record& l : log) {
    long a = 0, b = 0, c = 0, d = 0, e = 0;
    int used = 0;
    bool ok = l.is_record && l.level == "INFO";
    if (!ok) {
    } else if (l.message.rfind("sig ", 0) == 0 && std::sscanf(l.message.c_str(), "sig %ld%n", &a, &used) == 1 &&
               (l.message.substr(static_cast<std::size_t>(used)) == " in" ||
                l.message.substr(static_cast<std::size_t>(used)) == " out")) {
      ++sig_lines;
      if (l.message.back() == 't') ++sig_out_lines;
      if (!sigs.insert(a).second) ++sig_duplicates;
      if (a <= last_sig) ++sig_out_of_order;
      last_sig = a;
    } else if (l.message.rfind("main ", 0) == 0 && std::sscanf(l.message.c_str(), "main %ld%n", &a, &used) == 1 &&
               l.message.substr(static_cast<std::size_t>(used)) == main_suffix) {
      if (a != next_main) ++main_out_of_order;
      next_main = a + 1;
    } else if (std::sscanf(l.message.c_str(), "summary handled %ld reentrant %ld main %ld in %ld out %ld", &a, &b, &c,
                           &d, &e) == 5) {
      ++summaries;
      handled = a;
      reentrant = b;
      main_count = c;
      in = d;
      out = e;
    } else {
      ok = false;
    }
    if (!ok && malformed++ == 0) first_malformed = l.text;
  }
  INFO("first malformed line: " << first_malformed);
  CHECK(malformed == 0);          // a torn or mixed record
  CHECK(main_out_of_order == 0);  // a caller record lost or duplicated by the interrupting handler
  CHECK(sig_duplicates == 0);
  REQUIRE(summaries == 1);
  CHECK(handled == storm_signals + 1);
  CHECK(next_main == main_count);
  INFO("handler records: " << in << " interrupted a LOG_* call, " << out << " other code; written " << sig_lines
                           << " (" << sig_out_lines << " of the latter), reentrant " << reentrant);
  CHECK(static_cast<long>(sig_lines) + reentrant == handled);  // each handler record written or counted
  CHECK(reentrant == 0);                           // ... and none counted: one per call fits the stash
  CHECK(static_cast<long>(sig_lines) == handled);  // so every one is written, those that interrupted a
  CHECK(static_cast<long>(sig_out_lines) == out);  // LOG_* call ("in") as those that did not
  CHECK(sig_out_of_order == 0);
  CHECK(sigs.count(storm_signals + 1) == 1);       // the last one, sent outside any LOG_* call
}

// ---- a signal handler inside a LOG_* call, deterministically --------------------------------------
// A LOG_* argument whose formatter (run on the caller, between the call's claim and its commit)
// raises SIGUSR2; the handler logs one record too long for the record (its arguments would need the
// heap, which the interrupted call may hold) and then 10 short ones. The 8 that fit the stash are
// written right after the interrupted record, in order; the long one and the 2 past the stash are
// counted in reentrant: 3.

void on_usr2(int) {
  const int saved = errno;
  LOG_INFO("nested long {}", storm_text);
  for (int k = 0; k < 10; ++k) LOG_INFO("nested {}", k);
  errno = saved;
}

int nested_handler(storm_mode mode) {
  start_for(mode);
  struct sigaction sa {};
  sa.sa_handler = on_usr2;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR2, &sa, nullptr);
  LOG_INFO("before");
  LOG_INFO("outer {}", raise_usr2{});
  LOG_INFO("after");
  LOG_INFO("summary reentrant {}", gidlog::get_counters().reentrant);
  if (mode == storm_mode::running) gidlog::stop();
  return 0;
}

void check_nested(const char* scenario, bool to_stderr) {
  auto [r, log] = run_signal_child(scenario, to_stderr);
  INFO("child " << r.describe());
  CHECK(r.exited_with(0));
  std::vector<std::string> got;
  for (const log_record& l : log)
    if (l.is_record) got.push_back(l.message);
  std::vector<std::string> want{"before", "outer raised"};
  for (int k = 0; k < 8; ++k) want.push_back("nested " + std::to_string(k));
  want.push_back("after");
  want.push_back("summary reentrant 3");
  std::string shown;
  for (const std::string& m : got) shown += m + "\n";
  INFO("records:\n" << shown);
  CHECK(got == want);
}

}  // namespace

GIDLOG_CHILD_SCENARIO(signal_storm_running) { return signal_storm(storm_mode::running); }
GIDLOG_CHILD_SCENARIO(signal_storm_stopped) { return signal_storm(storm_mode::stopped); }
GIDLOG_CHILD_SCENARIO(signal_storm_never_started) { return signal_storm(storm_mode::never_started); }
GIDLOG_CHILD_SCENARIO(nested_handler_running) { return nested_handler(storm_mode::running); }
GIDLOG_CHILD_SCENARIO(nested_handler_stopped) { return nested_handler(storm_mode::stopped); }
GIDLOG_CHILD_SCENARIO(nested_handler_never_started) { return nested_handler(storm_mode::never_started); }

// Catches: the handler's LOG_* re-entering the same thread's producer mid-call (a lost,
// duplicated or mixed record, a corrupted queue), and a handler's record dropped.
TEST_CASE("SIGUSR1 x10000 logging into a thread that logs: no deadlock, nothing mixed, nothing lost",
          "[crash][signal]") {
  check_storm("signal_storm_running", false);
}

// Catches: the synchronous path (after stop()) taking the writer lock again from the handler:
// a self-deadlock on the non-recursive mutex.
TEST_CASE("SIGUSR1 x10000 with the logger stopped (synchronous path): no deadlock, nothing lost", "[crash][signal]") {
  check_storm("signal_storm_stopped", false);
}

// Catches: the same self-deadlock on the stderr path used before start().
TEST_CASE("SIGUSR1 x10000 with the logger never started (stderr path): no deadlock, nothing lost", "[crash][signal]") {
  check_storm("signal_storm_never_started", true);
}

// Catches: a handler's records inside a LOG_* call dropped, written out of order or away from the
// call they interrupted, allocating, or the stash's limits not counted.
TEST_CASE("a signal handler inside a LOG_* call: 8 records kept after it, the rest counted", "[crash][signal]") {
  SECTION("running") { check_nested("nested_handler_running", false); }
  SECTION("stopped") { check_nested("nested_handler_stopped", false); }
  SECTION("never started") { check_nested("nested_handler_never_started", true); }
}
