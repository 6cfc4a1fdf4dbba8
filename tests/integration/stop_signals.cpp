// SIGTERM and SIGINT drain by default (options::stop_signals), each scenario in a child process
// (tests/support/child_process.h): the child queues a burst and is sent the signal; the parent
// reads the file it left and its wait status. A handler the application installed before
// start(), or SIG_IGN, is left in place; stop() puts the default back.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
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

namespace {

constexpr int k_burst = 10000;

// 10 000 records queued (the backend polls every 50 ms, nothing flushes), then the signal from
// "outside": kill(2) to the process, as kill -TERM, systemd and Ctrl-C send it.
int burst_then_signal(int sig) {
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(child_env("GIDLOG_TEST_LOG"), {.truncate = true})};
  opt.backend_sleep = std::chrono::milliseconds(50);
  opt.flush_on = gidlog::level::off;
  gidlog::start(opt);
  // From another thread too, so the signal does not always land on the thread that logged.
  std::thread other([] {
    for (int i = 0; i < k_burst / 2; ++i) LOG_INFO("b {}", i);
  });
  for (int i = 0; i < k_burst / 2; ++i) LOG_INFO("a {}", i);
  other.join();
  ::kill(::getpid(), sig);
  for (;;) ::pause();  // the signal ends the process
}

std::string log_path(const char* name) {
  std::string p = gidlog_test::temp_path(name);
  ::unlink(p.c_str());
  return p;
}

void check_drained(const char* scenario, int sig, const char* sig_name) {
  const std::string path = log_path((std::string(scenario) + ".log").c_str());
  auto r = run_child(scenario, {.env = {"GIDLOG_TEST_LOG=" + path}});
  auto log = gidlog_test::read_log(path);
  ::unlink(path.c_str());
  INFO("child " << r.describe());
  INFO("last lines:\n" << gidlog_test::tail_of(log));
  CHECK(r.killed_by(sig));
  int next[2] = {0, 0};
  std::size_t out_of_order = 0, stop_records = 0, after_stop = 0;
  std::string stop_text;
  for (const log_record& l : log) {
    if (!l.is_record) continue;
    char t = 0;
    int n = -1;
    if (stop_records != 0) ++after_stop;
    if (std::sscanf(l.message.c_str(), "%c %d", &t, &n) == 2 && (t == 'a' || t == 'b')) {
      if (n != next[t - 'a']) ++out_of_order;
      next[t - 'a'] = n + 1;
    } else if (l.message.rfind(std::string("gidlog: stopped by ") + sig_name, 0) == 0) {
      ++stop_records;
      stop_text = l.text;
      CHECK(l.level == "WARN");
    }
  }
  CHECK(next[0] == k_burst / 2);  // every queued record is in the file
  CHECK(next[1] == k_burst / 2);
  CHECK(out_of_order == 0);
  CHECK(stop_records == 1);  // one record says which signal stopped the process ...
  CHECK(after_stop == 0);    // ... after everything queued before it
  CHECK(stop_text.find("from pid " + std::to_string(r.pid)) != std::string::npos);
  CHECK(stop_text.find("crash") == std::string::npos);  // a normal stop, not a crash
}

// The application's own SIGTERM handler, installed before start(), and SIGINT ignored.
volatile sig_atomic_t g_app_handler_ran = 0;
void app_on_term(int) { g_app_handler_ran = 1; }

bool handler_is(int sig, void (*h)(int)) {
  struct sigaction cur {};
  sigaction(sig, nullptr, &cur);
  return !(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == h;
}

}  // namespace

GIDLOG_CHILD_SCENARIO(stop_sigterm) { return burst_then_signal(SIGTERM); }
GIDLOG_CHILD_SCENARIO(stop_sigint) { return burst_then_signal(SIGINT); }

// Exit status: a bit per expectation that failed (0: all held).
GIDLOG_CHILD_SCENARIO(stop_app_handlers_kept) {
  struct sigaction sa {};
  sa.sa_handler = app_on_term;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGINT, SIG_IGN);
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(child_env("GIDLOG_TEST_LOG"), {.truncate = true})};
  gidlog::start(opt);
  int failed = 0;
  if (!handler_is(SIGTERM, app_on_term)) failed |= 1;  // replaced by start()
  if (!handler_is(SIGINT, SIG_IGN)) failed |= 2;
  LOG_INFO("before the signals");
  ::kill(::getpid(), SIGINT);   // ignored
  ::kill(::getpid(), SIGTERM);  // the application's handler runs, the process goes on
  if (g_app_handler_ran != 1) failed |= 4;
  LOG_INFO("after the signals");
  gidlog::stop();
  if (!handler_is(SIGTERM, app_on_term)) failed |= 8;  // stop() must not touch it either
  if (!handler_is(SIGINT, SIG_IGN)) failed |= 16;
  return failed;
}

GIDLOG_CHILD_SCENARIO(stop_default_restored) {
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(child_env("GIDLOG_TEST_LOG"), {.truncate = true})};
  int failed = 0;
  gidlog::start(opt);
  if (handler_is(SIGTERM, SIG_DFL) || handler_is(SIGINT, SIG_DFL)) failed |= 1;  // not installed
  gidlog::stop();
  if (!handler_is(SIGTERM, SIG_DFL) || !handler_is(SIGINT, SIG_DFL)) failed |= 2;  // not removed
  opt.stop_signals.clear();  // opting out
  gidlog::start(opt);
  if (!handler_is(SIGTERM, SIG_DFL) || !handler_is(SIGINT, SIG_DFL)) failed |= 4;
  gidlog::stop();
  return failed;
}

// Catches: SIGTERM not handled (the process dies at once and every queued record is lost: 10 000
// of 10 000 before this change), no record naming the signal, an exit status other than the
// signal's (a handler that returns, or exits).
TEST_CASE("kill -TERM during a burst: every queued record, a stop record, then death by SIGTERM",
          "[crash][stop_signals]") {
  check_drained("stop_sigterm", SIGTERM, "SIGTERM");
}

TEST_CASE("SIGINT (Ctrl-C) during a burst: every queued record, a stop record, then death by SIGINT",
          "[crash][stop_signals]") {
  check_drained("stop_sigint", SIGINT, "SIGINT");
}

// Catches: start() replacing a SIGTERM handler the application installed, or an ignored SIGINT;
// stop() resetting them.
TEST_CASE("an application's SIGTERM handler and an ignored SIGINT are left alone", "[crash][stop_signals]") {
  const std::string path = log_path("stop_app_handlers.log");
  auto r = run_child("stop_app_handlers_kept", {.env = {"GIDLOG_TEST_LOG=" + path}});
  auto log = gidlog_test::read_log(path);
  ::unlink(path.c_str());
  INFO("child " << r.describe() << "\nfile:\n" << gidlog_test::tail_of(log));
  CHECK(r.exited_with(0));
  bool after = false;
  for (const log_record& l : log) {
    CHECK(l.message.find("stopped by") == std::string::npos);
    if (l.message == "after the signals") after = true;
  }
  CHECK(after);
}

// Catches: the handlers left installed after stop(), or installed despite stop_signals = {}.
TEST_CASE("stop() removes the SIGTERM and SIGINT handlers; stop_signals = {} installs none",
          "[crash][stop_signals]") {
  const std::string path = log_path("stop_default_restored.log");
  auto r = run_child("stop_default_restored", {.env = {"GIDLOG_TEST_LOG=" + path}});
  ::unlink(path.c_str());
  INFO("child " << r.describe());
  CHECK(r.exited_with(0));
}
