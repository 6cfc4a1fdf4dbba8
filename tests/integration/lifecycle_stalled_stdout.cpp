// Exit and LOG_FATAL with a stdout nobody reads (a service whose console pipe is full): stop() at
// exit gives up after options::stop_timeout and says so, LOG_FATAL aborts within
// crash_drain_timeout. Each scenario runs in a child process (tests/support/child_process.h)
// whose stdout is a full pipe; the parent reads its stderr and wait status.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

#include <gidlog/gidlog.h>

#include "child_process.h"

using gidlog_test::run_child;

namespace {

constexpr int stalled_records = 100000;

void report_unwritten() {
  auto c = gidlog::get_counters();
  std::fprintf(stderr, "unwritten %llu dropped %llu\n", static_cast<unsigned long long>(c.unwritten),
               static_cast<unsigned long long>(c.dropped));
}

gidlog::options stalled_console_options() {
  gidlog::options opt;
  opt.sinks = {gidlog::console_sink()};
  opt.queue_policy = gidlog::queue_policy::drop;  // callers never wait for the stuck backend
  opt.queue_capacity = 1024;
  opt.stop_timeout = std::chrono::milliseconds(500);
  opt.crash_drain_timeout = std::chrono::milliseconds(500);
  return opt;
}

// A pipe whose buffer is already full: a write to it blocks until someone reads, and nobody will.
struct full_pipe {
  int fds[2] = {-1, -1};
  full_pipe() {
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
    char chunk[4096] = {};
    while (::write(fds[1], chunk, sizeof chunk) > 0) {
    }
    char one = 0;
    while (::write(fds[1], &one, 1) > 0) {
    }
    ::fcntl(fds[1], F_SETFL, 0);  // the child's writes block
  }
  ~full_pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
};

}  // namespace

GIDLOG_CHILD_SCENARIO(stalled_stdout_exit) {
  std::atexit(report_unwritten);  // registered before start(): runs after the stop() at exit
  gidlog::start(stalled_console_options());
  for (int i = 0; i < stalled_records; ++i) LOG_INFO("stalled {}", i);
  return 0;
}

GIDLOG_CHILD_SCENARIO(stalled_stdout_fatal) {
  gidlog::start(stalled_console_options());
  for (int i = 0; i < stalled_records; ++i) LOG_INFO("stalled {}", i);
  LOG_FATAL("fatal with stdout stalled");
  return 0;
}

// Catches: stop() at exit joining a backend stuck in write(2) forever (a service that cannot exit
// because nobody reads its stdout), a give-up that is not reported, or not counted.
TEST_CASE("exit with a stdout nobody reads: stop() gives up after stop_timeout and says so", "[lifecycle][stall]") {
  full_pipe p;
  auto r = run_child("stalled_stdout_exit", {.deadline = std::chrono::seconds(10), .stdout_fd = p.fds[1]});
  INFO("child " << r.describe());
  CHECK(r.exited_with(0));
  std::smatch m;
  std::regex gave_up(R"(gidlog: stop\(\) gave up after (\d+) ms: (\d+) records could not be written)");
  REQUIRE(std::regex_search(r.err, m, gave_up));
  long waited = std::stol(m[1]), lost = std::stol(m[2]);
  CHECK(waited >= 400);  // it did wait about stop_timeout
  CHECK(waited < 5000);
  CHECK(lost > 0);
  std::smatch u;
  REQUIRE(std::regex_search(r.err, u, std::regex(R"(unwritten (\d+) dropped (\d+))")));
  CHECK(std::stol(u[1]) == lost);  // get_counters().unwritten counts what stop() gave up on
  // Not one byte reached the full pipe, so every record was dropped by the full queue or given up
  // on, including lines a sink had buffered but never written ("or more": the backend's own
  // "records dropped" notes are records too).
  CHECK(std::stol(u[1]) + std::stol(u[2]) >= stalled_records);
}

// Catches: LOG_FATAL waiting for a flush() that can never finish (the process hangs instead of
// aborting), or a crash drain without a deadline.
TEST_CASE("LOG_FATAL with a stdout nobody reads aborts within crash_drain_timeout", "[lifecycle][stall]") {
  full_pipe p;
  auto r = run_child("stalled_stdout_fatal", {.deadline = std::chrono::seconds(10), .stdout_fd = p.fds[1]});
  INFO("child " << r.describe());
  CHECK(r.killed_by(SIGABRT));
}
