// Compile-time stripping: this file is built with GIDLOG_ACTIVE_LEVEL at warn, so TRACE, DEBUG
// and INFO calls vanish and their arguments are never evaluated, whatever the run-time level.
#define GIDLOG_ACTIVE_LEVEL 3
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <csignal>
#include <unistd.h>

#include <gidlog/gidlog.h>

#include "log_capture.h"

TEST_CASE("calls below GIDLOG_ACTIVE_LEVEL vanish with their arguments", "[logger][level]") {
  gidlog::options opt;
  opt.level = gidlog::level::trace;
  gidlog_test::logger_session s(opt);
  int evaluated = 0;
  auto count = [&] { return ++evaluated; };
  LOG_TRACE("t {}", count());
  LOG_DEBUG("d {}", count());
  LOG_INFO("i {}", count());
  LOG_WARN("w {}", count());
  GIDLOG_ERROR("e {}", count());
  auto lines = s.lines();
  CHECK(evaluated == 2);
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[0], Catch::EndsWith("] w 1"));
  CHECK_THAT(lines[1], Catch::EndsWith("] e 2"));
}

TEST_CASE("LOG_FATAL writes its record, flushes and aborts", "[logger][fatal]") {
  std::string path = gidlog_test::temp_path("fatal.log");
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGABRT, SIG_DFL);  // Catch's handler would report the abort as a failure
    gidlog::options opt;
    opt.sinks = {gidlog::file_sink(path, {.truncate = true})};
    gidlog::start(opt);
    LOG_WARN("before the end");  // INFO is compiled out in this file
    LOG_FATAL("cannot continue: {}", 42);
    _exit(0);  // not reached
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  auto lines = gidlog_test::read_lines(path);
  ::unlink(path.c_str());
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[1], Catch::Contains(":FATAL:gid-") && Catch::EndsWith("] cannot continue: 42"));
}
