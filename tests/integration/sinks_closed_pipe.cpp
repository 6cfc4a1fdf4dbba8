// A console sink writing to a pipe whose reader is gone, the way a service dies when the program
// reading its stdout (`service | head`, a log shipper) exits: the write gets SIGPIPE, whose default
// action ends the process. gidlog must turn it into a counted sink error, on the backend thread
// and on the synchronous path after stop(). The scenario runs in a child process whose stdout is a
// pipe the parent already closed, with SIGPIPE at its default action (tests/support/child_process.h).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <gidlog/gidlog.h>

#include "child_process.h"
#include "log_capture.h"
#include "log_lines.h"

namespace {

constexpr int async_records = 100;
constexpr int sync_records = 10;

bool sigpipe_in(const sigset_t& s) { return sigismember(&s, SIGPIPE) == 1; }

}  // namespace

TEST_CASE("child: console and file sinks on a closed pipe", "[.]") {
  const std::string dir = gidlog_test::child_env("GIDLOG_TEST_DIR");
  if (dir.empty()) return;  // run by hand, not by the test below
  std::mutex mu;
  std::vector<std::string> errors;
  gidlog::options opt;
  opt.sinks = {gidlog::console_sink(gidlog::console_stream::out, gidlog::color_mode::never),
               gidlog::file_sink(dir + "/app.log", {.truncate = true})};
  opt.error_handler = [&](std::string_view e) {
    std::lock_guard<std::mutex> l(mu);
    errors.emplace_back(e);
  };
  gidlog_test::child_facts f;

  gidlog::start(opt);
  for (int i = 0; i < async_records; ++i) LOG_INFO("async {}", i);
  gidlog::flush();  // the backend's write(2) to stdout fails with EPIPE
  f["errors_async"] = std::to_string(gidlog::get_counters().sink_errors);
  gidlog::stop();

  const auto before_sync = gidlog::get_counters().sink_errors;
  for (int i = 0; i < sync_records; ++i) LOG_INFO("sync {}", i);  // written (and flushed) on this thread
  f["errors_sync"] = std::to_string(gidlog::get_counters().sink_errors - before_sync);
  sigset_t mask, pending;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  sigpending(&pending);
  f["sigpipe_blocked_after"] = sigpipe_in(mask) ? "1" : "0";  // the thread's mask is restored
  f["sigpipe_pending_after"] = sigpipe_in(pending) ? "1" : "0";  // the write's SIGPIPE was consumed

  // A SIGPIPE pending before a synchronous write is this program's, not the write's: it stays.
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  pthread_kill(pthread_self(), SIGPIPE);
  LOG_INFO("sync with a SIGPIPE pending");
  sigpending(&pending);
  f["earlier_sigpipe_kept"] = sigpipe_in(pending) ? "1" : "0";
  const timespec zero{0, 0};
  sigtimedwait(&pipe_only, nullptr, &zero);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);

  {
    std::lock_guard<std::mutex> l(mu);
    for (std::size_t i = 0; i < errors.size(); ++i) f["error." + std::to_string(i)] = errors[i];
  }
  gidlog_test::write_facts(dir + "/facts", f);
  gidlog_test::end_child(0);
}

// Catches: a sink write raising SIGPIPE on the backend thread or on the caller's thread (the
// child dies by SIGPIPE), EPIPE not counted or not reported, the caller's signal mask left
// changed, the write's SIGPIPE left pending, a SIGPIPE pending before the write swallowed, and the
// other sink (a file) losing lines because the console failed.
TEST_CASE("a console sink on a pipe nobody reads: EPIPE is a counted sink error, never SIGPIPE", "[sink][sigpipe]") {
  namespace fs = std::filesystem;
  const std::string dir = gidlog_test::temp_path("closed_pipe");
  fs::remove_all(dir);
  fs::create_directories(dir);
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  ::close(fds[0]);  // the reader is gone before the child writes anything
  auto r = gidlog_test::run_child_test("child: console and file sinks on a closed pipe",
                                       {.env = {"GIDLOG_TEST_DIR=" + dir}, .stdout_fd = fds[1]});
  ::close(fds[1]);
  auto f = gidlog_test::read_facts(dir + "/facts");
  auto log = gidlog_test::read_log(dir + "/app.log");
  fs::remove_all(dir);
  INFO("child " << r.describe());
  REQUIRE(r.exited_with(0));

  REQUIRE(f.count("errors_async") == 1);
  CHECK(std::stoul(f["errors_async"]) > 0);
  CHECK(std::stoul(f["errors_sync"]) > 0);  // the synchronous writes reached write(2) and failed
  CHECK(f["sigpipe_blocked_after"] == "0");
  CHECK(f["sigpipe_pending_after"] == "0");
  CHECK(f["earlier_sigpipe_kept"] == "1");
  REQUIRE(f.count("error.0") == 1);
  CHECK_THAT(f["error.0"], Catch::Contains("sink 0") && Catch::Contains("stdout") && Catch::Contains("Broken pipe"));

  std::vector<std::string> expected;
  for (int i = 0; i < async_records; ++i) expected.push_back("async " + std::to_string(i));
  for (int i = 0; i < sync_records; ++i) expected.push_back("sync " + std::to_string(i));
  expected.emplace_back("sync with a SIGPIPE pending");
  std::vector<std::string> got;
  for (const auto& l : log) got.push_back(l.is_record ? l.message : "(not a record) " + l.text);
  CHECK(got == expected);
}
