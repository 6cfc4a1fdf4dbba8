// A file sink whose directory is deleted (`rm -r logs/`) while the service logs, and made again
// later: while the path cannot be opened the sink fails, so the writer keeps its lines and
// retries; nothing may go into the deleted file, where it would be lost unseen. Once the
// directory is back, every record logged since the deletion lands in the new file, in order.
// The scenario runs in a child process (tests/support/catch_child.h); the parent reads the file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <gidlog/gidlog.h>

#include "catch_child.h"
#include "log_capture.h"

namespace {

constexpr int before_records = 50;
constexpr int missing_flushed = 100;  // logged and flushed while the directory is gone
constexpr int missing_kept = 100;     // then logged without a flush, still while it is gone
constexpr int after_records = 100;

}  // namespace

TEST_CASE("child: a file sink whose directory is deleted and made again", "[.]") {
  namespace fs = std::filesystem;
  const std::string dir = gidlog_test::child_env("GIDLOG_TEST_DIR");
  const std::string facts = gidlog_test::child_env("GIDLOG_TEST_FACTS");
  if (dir.empty() || facts.empty()) return;  // run by hand, not by the test below
  std::mutex mu;
  std::vector<std::string> errors;
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(dir + "/app.log")};
  opt.error_handler = [&](std::string_view e) {
    std::lock_guard<std::mutex> l(mu);
    errors.emplace_back(e);
  };
  gidlog_test::child_facts f;

  gidlog::start(opt);
  for (int i = 0; i < before_records; ++i) LOG_INFO("before {}", i);
  gidlog::flush();
  const auto errors_before = gidlog::get_counters().sink_errors;
  fs::remove_all(dir);  // rm -r: the open file is now unlinked, and its directory too
  for (int i = 0; i < missing_flushed; ++i) LOG_INFO("missing {}", i);
  gidlog::flush();  // must fail: there is nowhere to write these
  f["errors_while_missing"] = std::to_string(gidlog::get_counters().sink_errors - errors_before);
  for (int i = missing_flushed; i < missing_flushed + missing_kept; ++i) LOG_INFO("missing {}", i);
  fs::create_directory(dir);
  for (int i = 0; i < after_records; ++i) LOG_INFO("after {}", i);
  gidlog::flush();  // retries the failing sink now
  gidlog::stop();
  f["sink_dropped"] = std::to_string(gidlog::get_counters().sink_dropped);
  {
    std::lock_guard<std::mutex> l(mu);
    for (std::size_t i = 0; i < errors.size(); ++i) f["error." + std::to_string(i)] = errors[i];
  }
  gidlog_test::write_facts(facts, f);
  gidlog_test::end_child(0);
}

// Catches: lines written into the deleted file (they vanish: "missing 0.." absent), a sink that
// goes on writing to the unlinked file instead of failing (no error while the directory is gone),
// a reopen that truncates, lines lost or reordered across the backlog and the sink's own buffer.
TEST_CASE("a file sink's directory deleted and made again: every later record lands in the new file, in order",
          "[sink][reopen]") {
  namespace fs = std::filesystem;
  const std::string dir = gidlog_test::temp_path("deleted_dir");
  const std::string facts = gidlog_test::temp_path("deleted_dir.facts");
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto r = gidlog_test::run_child_test("child: a file sink whose directory is deleted and made again",
                                       {.env = {"GIDLOG_TEST_DIR=" + dir, "GIDLOG_TEST_FACTS=" + facts}});
  auto f = gidlog_test::read_facts(facts);
  auto log = gidlog_test::read_log(dir + "/app.log");
  fs::remove_all(dir);
  fs::remove(facts);
  INFO("child " << r.describe());
  INFO("last lines of the new file:\n" << gidlog_test::tail_of(log));
  REQUIRE(r.exited_with(0));

  REQUIRE(f.count("errors_while_missing") == 1);
  CHECK(std::stoul(f["errors_while_missing"]) > 0);
  CHECK(f["sink_dropped"] == "0");
  REQUIRE(f.count("error.0") == 1);
  CHECK_THAT(f["error.0"], Catch::Contains("app.log") && Catch::Contains("No such file or directory"));

  std::vector<std::string> expected;
  for (int i = 0; i < missing_flushed + missing_kept; ++i) expected.push_back("missing " + std::to_string(i));
  for (int i = 0; i < after_records; ++i) expected.push_back("after " + std::to_string(i));
  std::vector<std::string> got;
  for (const auto& l : log) got.push_back(l.is_record ? l.message : "(not a record) " + l.text);
  CHECK(got == expected);
}
