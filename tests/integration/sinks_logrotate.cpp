// logrotate's default (create) mode while a thread logs: app.log is renamed to app.log.1, then
// either postrotate calls gidlog::reopen() (e.g. from a SIGHUP handler), or nothing does and
// options::reopen_check notices the path names another file (here: none). Either way the later
// records go to a new app.log, the earlier ones stay in app.log.1, and the two files together
// hold every record once, in order. Each scenario runs in a child process
// (tests/support/child_process.h); the parent reads both files.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gidlog/gidlog.h>

#include "child_process.h"
#include "log_capture.h"
#include "log_lines.h"
#include "test_timing.h"

namespace {

// Waits for the logging thread to pass `n` records (it never stops while we wait).
void wait_logged(const std::atomic<long>& logged, long n) {
  while (logged.load(std::memory_order_acquire) < n) std::this_thread::yield();
}

}  // namespace

TEST_CASE("child: logrotate renames the file while a thread logs", "[.]") {
  namespace fs = std::filesystem;
  const std::string dir = gidlog_test::child_env("GIDLOG_TEST_DIR");
  const std::string mode = gidlog_test::child_env("GIDLOG_TEST_MODE");  // "reopen" or "check"
  if (dir.empty()) return;  // run by hand, not by the tests below
  const std::string path = dir + "/app.log";
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(path)};
  opt.reopen_check = mode == "check" ? std::chrono::milliseconds(50) : std::chrono::milliseconds(0);
  gidlog::start(opt);

  std::atomic<long> logged{0};
  std::atomic<bool> done{false};
  std::thread t([&] {
    for (long i = 0; !done.load(std::memory_order_acquire); ++i) {
      LOG_INFO("rec {}", i);
      logged.store(i + 1, std::memory_order_release);
    }
  });
  gidlog_test::child_facts f;
  wait_logged(logged, 2000);
  // Records still queued at the rename may go to either file (the new one once the reopen is
  // served); those written before it are in the renamed file for good.
  const long written = logged.load();
  gidlog::flush();
  f["before_rename"] = std::to_string(written);  // these must all be in app.log.1
  fs::rename(path, path + ".1");
  bool reopened = false;
  if (mode == "reopen") {
    gidlog::reopen();
    gidlog::flush();  // returns once the backend served the reopen
    reopened = fs::exists(path);
  } else {
    reopened = gidlog_test::wait_until([&] { return fs::exists(path); }, std::chrono::seconds(20));
  }
  f["reopened"] = reopened ? "1" : "0";
  const long seen = logged.load();
  f["after_reopen"] = std::to_string(seen);  // every record after this one is in the new app.log
  wait_logged(logged, seen + 2000);
  done.store(true, std::memory_order_release);
  t.join();
  f["total"] = std::to_string(logged.load());
  f["sink_errors"] = std::to_string(gidlog::get_counters().sink_errors);
  gidlog::stop();
  gidlog_test::write_facts(dir + "/facts", f);
  gidlog_test::end_child(0);
}

namespace {

// The record numbers in a file, in file order; -1 for a line that is not "rec N".
std::vector<long> numbers_in(const std::string& path) {
  std::vector<long> out;
  for (const auto& l : gidlog_test::read_log(path)) {
    long n = -1;
    int used = 0;
    if (!l.is_record || std::sscanf(l.message.c_str(), "rec %ld%n", &n, &used) != 1 ||
        static_cast<std::size_t>(used) != l.message.size())
      n = -1;
    out.push_back(n);
  }
  return out;
}

void check_rotation(const std::string& mode) {
  namespace fs = std::filesystem;
  const std::string dir = gidlog_test::temp_path("logrotate_" + mode);
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto r = gidlog_test::run_child_test("child: logrotate renames the file while a thread logs",
                                       {.env = {"GIDLOG_TEST_DIR=" + dir, "GIDLOG_TEST_MODE=" + mode}});
  auto f = gidlog_test::read_facts(dir + "/facts");
  const auto old_file = numbers_in(dir + "/app.log.1");
  const auto new_file = numbers_in(dir + "/app.log");
  fs::remove_all(dir);
  INFO("child " << r.describe());
  REQUIRE(r.exited_with(0));
  REQUIRE(f.count("total") == 1);
  CHECK(f["reopened"] == "1");
  CHECK(f["sink_errors"] == "0");
  const long before_rename = std::stol(f["before_rename"]), after_reopen = std::stol(f["after_reopen"]),
             total = std::stol(f["total"]);
  INFO("records: " << total << "; written before the rename " << before_rename << ", before the new file was seen "
                   << after_reopen << "; in app.log.1 " << old_file.size() << ", in app.log " << new_file.size());

  // Together: 0 .. total-1, each once, in order.
  std::size_t wrong = 0;
  long expected = 0;
  for (const auto* file : {&old_file, &new_file})
    for (long n : *file)
      if (n != expected++) ++wrong;
  CHECK(wrong == 0);
  CHECK(expected == total);
  // The split: everything written before the rename is in the old file, everything logged after
  // the new file was there is in the new one.
  CHECK(static_cast<long>(old_file.size()) >= before_rename);
  CHECK(static_cast<long>(old_file.size()) <= after_reopen + 1);
  CHECK(!new_file.empty());
}

}  // namespace

// Catches: gidlog::reopen() not served (no new app.log: everything goes on into app.log.1), served
// too late (a record logged after flush() returned lands in app.log.1), lines buffered before the
// reopen lost or written into the new file ahead of older ones, lines duplicated across the files.
TEST_CASE("logrotate then gidlog::reopen(): earlier records in app.log.1, later in app.log, none lost",
          "[sink][reopen]") {
  check_rotation("reopen");
}

// Catches: options::reopen_check not acted on while a thread logs without pause (the backend is
// never idle), a check that does not compare the path's inode with the open file's.
TEST_CASE("logrotate with reopen_check alone: earlier records in app.log.1, later in app.log, none lost",
          "[sink][reopen]") {
  check_rotation("check");
}
