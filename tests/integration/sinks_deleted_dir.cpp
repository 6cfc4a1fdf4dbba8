// A file sink whose directory is deleted (`rm -r logs/`) while the service logs: the sink makes
// the directory again and goes on in a new file. While the directory cannot be made (a regular
// file stands at its path) the sink fails, so the writer keeps its lines and retries; nothing may
// go into the deleted file, where it would be lost unseen. Once the path is free, every record
// logged since lands in the new file, in order. The scenario runs in a child process
// (tests/support/child_process.h); the parent reads the file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <gidlog/gidlog.h>

#include "child_process.h"
#include "log_capture.h"
#include "log_lines.h"

namespace {

constexpr int before_records = 50;
constexpr int gone_records = 70;      // logged and flushed after rm -r: the sink makes the directory
constexpr int missing_flushed = 100;  // logged and flushed while the directory cannot be made
constexpr int missing_kept = 100;     // then logged without a flush, still while it cannot
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
  for (int i = 0; i < gone_records; ++i) LOG_INFO("gone {}", i);
  gidlog::flush();  // the sink makes the directory and a new file for these
  f["errors_after_rm"] = std::to_string(gidlog::get_counters().sink_errors - errors_before);
  f["lines_after_rm"] = std::to_string(gidlog_test::read_lines(dir + "/app.log").size());
  fs::remove_all(dir);
  std::ofstream(dir) << "a file where the directory was\n";  // mkdir cannot make it now
  for (int i = 0; i < missing_flushed; ++i) LOG_INFO("missing {}", i);
  gidlog::flush();  // must fail: there is nowhere to write these
  f["errors_while_missing"] = std::to_string(gidlog::get_counters().sink_errors - errors_before);
  for (int i = missing_flushed; i < missing_flushed + missing_kept; ++i) LOG_INFO("missing {}", i);
  fs::remove(dir);  // the path is free again: the sink makes the directory on its next retry
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

// Catches: a sink that does not make its directory again after rm -r (before this change: "gone"
// lines failed until someone made it); lines written into the deleted file (they vanish:
// "missing 0.." absent); a sink that goes on writing to the unlinked file instead of failing (no
// error while the directory cannot be made); a reopen that truncates; lines lost or reordered
// across the backlog and the sink's own buffer.
TEST_CASE("a file sink's directory deleted: made again at once, or when its path is free; every later record lands, in order",
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

  CHECK(f["errors_after_rm"] == "0");
  CHECK(f["lines_after_rm"] == std::to_string(gone_records));  // the "gone" lines, in the new file
  REQUIRE(f.count("errors_while_missing") == 1);
  CHECK(std::stoul(f["errors_while_missing"]) > 0);
  CHECK(f["sink_dropped"] == "0");
  REQUIRE(f.count("error.0") == 1);
  CHECK_THAT(f["error.0"], Catch::Contains("app.log") && Catch::Contains("Not a directory"));

  std::vector<std::string> expected;
  for (int i = 0; i < missing_flushed + missing_kept; ++i) expected.push_back("missing " + std::to_string(i));
  for (int i = 0; i < after_records; ++i) expected.push_back("after " + std::to_string(i));
  std::vector<std::string> got;
  for (const auto& l : log) got.push_back(l.is_record ? l.message : "(not a record) " + l.text);
  CHECK(got == expected);
}

TEST_CASE("child: file sinks in directories that do not exist yet", "[.]") {
  const std::string dir = gidlog_test::child_env("GIDLOG_TEST_DIR");
  if (dir.empty()) return;  // run by hand, not by the test below
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(dir + "/logs/app/app.log"), gidlog::json_sink(dir + "/json//deep/app.jsonl"),
               gidlog::rotating_file_sink(dir + "/rot/app.log", gidlog::rotation{.max_bytes = 1 << 20, .max_files = 2})};
  gidlog::start(opt);  // throws when a sink cannot open its file
  LOG_INFO("into a new directory");
  gidlog::stop();
  gidlog_test::end_child(0);
}

// Catches: file_sink("logs/app/app.log") throwing from start() when "logs/app" does not exist
// (spdlog and Quill make it); a JSON or rotating sink that does not.
TEST_CASE("file sinks make their missing parent directories at start()", "[sink][reopen]") {
  namespace fs = std::filesystem;
  const std::string dir = gidlog_test::temp_path("new_dirs");
  fs::remove_all(dir);
  auto r = gidlog_test::run_child_test("child: file sinks in directories that do not exist yet",
                                       {.env = {"GIDLOG_TEST_DIR=" + dir}});
  INFO("child " << r.describe());
  CHECK(r.exited_with(0));
  for (const char* f : {"/logs/app/app.log", "/json/deep/app.jsonl", "/rot/app.log"}) {
    INFO(f);
    CHECK(gidlog_test::read_file(dir + f).find("into a new directory") != std::string::npos);
  }
  fs::remove_all(dir);
}
