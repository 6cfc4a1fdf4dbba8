// LOG_FATAL whatever the level: the run-time level (set_level, GIDLOG_LEVEL) never filters it
// out, before start() it goes to stderr, and it always aborts. Each scenario runs in a child
// process (tests/support/child_process.h); the parent reads the file or stderr the child left and
// its wait status.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gidlog/gidlog.h>

#include "child_process.h"
#include "log_capture.h"
#include "log_lines.h"

using gidlog_test::child_env;
using gidlog_test::log_record;
using gidlog_test::run_child;

namespace {

int fatal_child(bool use_set_level) {
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(child_env("GIDLOG_TEST_LOG"), {.truncate = true})};
  gidlog::start(opt);  // with GIDLOG_LEVEL=off in the environment, the level is off from here
  if (use_set_level) gidlog::set_level(gidlog::level::off);
  LOG_FATAL("fatal at level off {}", 42);
  return 0;  // a LOG_FATAL that was filtered out returns here
}

void check_fatal_record(const std::vector<log_record>& log) {
  std::size_t found = 0;
  for (const log_record& l : log)
    if (l.is_record && l.level == "FATAL" && l.message == "fatal at level off 42") ++found;
  CHECK(found == 1);
}

// Runs a LOG_FATAL scenario that writes to a file (plus `env`): it must abort with its record written.
void check_fatal_to_file(const char* scenario, const char* file, std::vector<std::string> env) {
  std::string path = gidlog_test::temp_path(file);
  ::unlink(path.c_str());
  env.insert(env.begin(), "GIDLOG_TEST_LOG=" + path);
  env.push_back(gidlog_test::crash_sanitizer_env("ASAN_OPTIONS"));
  env.push_back(gidlog_test::crash_sanitizer_env("TSAN_OPTIONS"));
  auto r = run_child(scenario, {.env = env});
  auto log = gidlog_test::read_log(path);
  ::unlink(path.c_str());
  INFO("child " << r.describe() << "\nfile:\n" << gidlog_test::tail_of(log));
  CHECK(r.killed_by(SIGABRT));
  check_fatal_record(log);
}

}  // namespace

GIDLOG_CHILD_SCENARIO(fatal_set_level_off) { return fatal_child(true); }
GIDLOG_CHILD_SCENARIO(fatal_env_level_off) { return fatal_child(false); }
GIDLOG_CHILD_SCENARIO(fatal_off_before_start) {
  gidlog::set_level(gidlog::level::off);
  LOG_FATAL("fatal at level off {}", 42);  // before start(): written to stderr
  return 0;
}

// Catches: LOG_FATAL filtered by the run-time level like any other record (today: the child
// returns 0 and writes nothing).
TEST_CASE("LOG_FATAL with set_level(off) writes its record and aborts", "[crash][fatal]") {
  check_fatal_to_file("fatal_set_level_off", "fatal_set_level.log", {});
}

TEST_CASE("LOG_FATAL with GIDLOG_LEVEL=off writes its record and aborts", "[crash][fatal]") {
  check_fatal_to_file("fatal_env_level_off", "fatal_env.log", {"GIDLOG_LEVEL=off"});
}

TEST_CASE("LOG_FATAL at level off before start() writes to stderr and aborts", "[crash][fatal]") {
  auto r = run_child("fatal_off_before_start", {.env = {gidlog_test::crash_sanitizer_env("ASAN_OPTIONS"),
                                                        gidlog_test::crash_sanitizer_env("TSAN_OPTIONS")}});
  INFO("child " << r.describe());
  CHECK(r.killed_by(SIGABRT));
  check_fatal_record(gidlog_test::parse_log_text(r.err));
}
