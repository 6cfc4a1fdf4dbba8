// A sink that fails for longer than options::sink_backlog_bytes allows: a file sink whose
// directory is gone (a file stands at its path, so the sink cannot make it again) while 20000
// records (~300 times the cap) are logged. The writer keeps only the newest lines that fit in the
// cap and counts the rest; when the directory is back the file gets, before the kept lines, one
// WARN line "gidlog: sink 0 lost M lines while failing", and the error handler is told how many
// were lost and how large the backlog grew. The scenario runs in a
// child process (tests/support/child_process.h); the parent reads the file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <gidlog/gidlog.h>

#include "child_process.h"
#include "log_capture.h"
#include "log_lines.h"
#include "test_sink.h"

namespace {

constexpr std::size_t cap = 4096;  // options::sink_backlog_bytes: the least allowed
constexpr long failing_records = 20000;
constexpr int after_records = 10;

}  // namespace

TEST_CASE("child: a file sink failing past sink_backlog_bytes", "[.]") {
  namespace fs = std::filesystem;
  const std::string dir = gidlog_test::child_env("GIDLOG_TEST_DIR");
  const std::string facts = gidlog_test::child_env("GIDLOG_TEST_FACTS");
  if (dir.empty() || facts.empty()) return;  // run by hand, not by the test below
  std::mutex mu;
  std::vector<std::string> errors;
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(dir + "/app.log")};
  opt.sink_backlog_bytes = cap;
  opt.reopen_check = std::chrono::milliseconds(0);  // the failure is found by the flush below
  opt.error_handler = [&](std::string_view e) {
    std::lock_guard<std::mutex> l(mu);
    errors.emplace_back(e);
  };
  gidlog_test::child_facts f;

  gidlog::start(opt);
  LOG_INFO("before");
  gidlog::flush();
  fs::remove_all(dir);
  std::ofstream(dir) << "not a directory\n";  // so the sink cannot make the directory again
  LOG_INFO("pre");
  gidlog::flush();  // fails: "pre" stays in the sink's buffer, the sink fails from now on
  const auto dropped_before = gidlog::get_counters().sink_dropped;
  for (long i = 0; i < failing_records; ++i) LOG_INFO("failing {}", i);
  gidlog::flush();  // still failing
  f["dropped_while_failing"] = std::to_string(gidlog::get_counters().sink_dropped - dropped_before);
  fs::remove(dir);
  fs::create_directory(dir);
  for (int i = 0; i < after_records; ++i) LOG_INFO("after {}", i);
  gidlog::flush();
  gidlog::stop();
  f["dropped"] = std::to_string(gidlog::get_counters().sink_dropped - dropped_before);
  {
    std::lock_guard<std::mutex> l(mu);
    for (std::size_t i = 0; i < errors.size(); ++i) f["error." + std::to_string(i)] = errors[i];
  }
  gidlog_test::write_facts(facts, f);
  gidlog_test::end_child(0);
}

// Catches: a backlog that grows without bound (the peak reported above the cap), drops not
// counted or counted wrong (M != the lines missing), no in-band line saying so, the line placed
// elsewhere than at the gap, kept lines out of order or not the newest ones, dropping more than
// the cap requires, and the error handler not told.
TEST_CASE("a sink failing past sink_backlog_bytes: the oldest lines are dropped, counted and announced",
          "[sink][backlog]") {
  namespace fs = std::filesystem;
  const std::string dir = gidlog_test::temp_path("backlog");
  const std::string facts = gidlog_test::temp_path("backlog.facts");
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto r = gidlog_test::run_child_test("child: a file sink failing past sink_backlog_bytes",
                                       {.env = {"GIDLOG_TEST_DIR=" + dir, "GIDLOG_TEST_FACTS=" + facts}});
  auto f = gidlog_test::read_facts(facts);
  auto log = gidlog_test::read_log(dir + "/app.log");
  fs::remove_all(dir);
  fs::remove(facts);
  INFO("child " << r.describe());
  std::string head;
  for (std::size_t i = 0; i < log.size() && i < 5; ++i) head += log[i].text + "\n";
  INFO("first lines of the new file:\n" << head);
  INFO("last lines of the new file:\n" << gidlog_test::tail_of(log));
  REQUIRE(r.exited_with(0));
  REQUIRE(f.count("dropped") == 1);
  const long dropped = std::stol(f["dropped"]);
  CHECK(std::stol(f["dropped_while_failing"]) > 0);  // dropped while failing, not at recovery

  // pre (the sink's own buffer), the notice at the gap, the kept lines, the lines after.
  REQUIRE(log.size() >= 2);
  CHECK(log[0].message == "pre");
  std::smatch m;
  const std::string notice = log[1].message;
  REQUIRE(std::regex_match(notice, m, std::regex(R"(gidlog: sink 0 lost (\d+) lines while failing)")));
  CHECK(log[1].is_record);
  CHECK(log[1].level == "WARN");
  const long lost = std::stol(m[1]);
  CHECK(lost == dropped);

  long first_kept = -1, next = -1, wrong = 0, after_seen = 0;
  std::size_t kept_bytes = 0, after_bytes = 0, longest = 0;
  for (std::size_t i = 2; i < log.size(); ++i) {
    long n = -1;
    int used = 0;
    const std::string& msg = log[i].message;
    if (log[i].is_record && std::sscanf(msg.c_str(), "failing %ld%n", &n, &used) == 1 &&
        static_cast<std::size_t>(used) == msg.size() && after_seen == 0) {
      if (first_kept < 0) first_kept = next = n;
      if (n != next++) ++wrong;
      kept_bytes += log[i].text.size() + 1;
      longest = std::max(longest, log[i].text.size() + 1);
    } else if (log[i].is_record && msg == "after " + std::to_string(after_seen)) {
      ++after_seen;
      after_bytes += log[i].text.size() + 1;
    } else {
      ++wrong;
    }
  }
  INFO("lost " << lost << ", kept failing " << first_kept << ".." << next - 1 << " (" << kept_bytes << " bytes)");
  CHECK(wrong == 0);
  CHECK(after_seen == after_records);
  CHECK(next == failing_records);         // the kept lines are the newest, up to the last
  CHECK(first_kept == lost);              // and follow the lost ones without a gap
  CHECK(kept_bytes <= cap);               // the backlog held at most the cap ...
  CHECK(kept_bytes + after_bytes + longest > cap);  // ... and dropped no more than it had to

  // The error handler: dropping began, then the loss with the backlog's peak size.
  std::string dropping, lost_msg;
  for (const auto& [k, v] : f) {
    if (k.rfind("error.", 0) != 0) continue;
    if (v.find("dropping its oldest lines") != std::string::npos) dropping = v;
    if (v.find("lost " + std::to_string(lost) + " lines") != std::string::npos) lost_msg = v;
  }
  CHECK_THAT(dropping, Catch::Contains("sink 0"));
  REQUIRE_THAT(lost_msg, Catch::Contains("sink 0"));
  std::smatch p;
  REQUIRE(std::regex_search(lost_msg, p, std::regex(R"(peaked at (\d+) bytes)")));
  CHECK(std::stoul(p[1]) <= cap);  // memory stayed bounded the whole time, not only at the end
  CHECK(std::stoul(p[1]) >= kept_bytes);
}

// Catches: the two options not validated, or a message that does not name the field.
TEST_CASE("sink_backlog_bytes below 4096 and a negative reopen_check are rejected by start()", "[sink][options]") {
  gidlog::options opt;
  opt.sinks = {std::make_shared<gidlog_test::test_sink>()};
  opt.sink_backlog_bytes = 4095;
  CHECK_THROWS_AS(gidlog::start(opt), std::invalid_argument);
  CHECK_THROWS_WITH(gidlog::start(opt), Catch::Contains("sink_backlog_bytes") && Catch::Contains("4096"));
  CHECK_FALSE(gidlog::running());
  opt.sink_backlog_bytes = 4096;
  opt.reopen_check = std::chrono::milliseconds(-1);
  CHECK_THROWS_AS(gidlog::start(opt), std::invalid_argument);
  CHECK_THROWS_WITH(gidlog::start(opt), Catch::Contains("reopen_check"));
  CHECK_FALSE(gidlog::running());
  opt.reopen_check = std::chrono::milliseconds(0);  // 0: never checks by time, valid
  gidlog::start(opt);
  CHECK(gidlog::running());
  gidlog::stop();
}
