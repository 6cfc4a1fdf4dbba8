// A record logged into an idle logger still reaches the file (issue 19): after 3 s without
// records (a backend that sleeps must be woken by the next record, not by a later one or by
// stop()), one record at an ordinary level and one at options::flush_on each appear in the file
// without flush() or stop(). Only arrival is asserted, with a generous deadline; how long it
// takes is a wall time and belongs to bench/footprint.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <gidlog/gidlog.h>

#include "log_capture.h"
#include "test_timing.h"

namespace {

using namespace std::chrono_literals;

bool file_has(const std::string& path, const std::string& text) {
  return gidlog_test::read_file(path).find(text) != std::string::npos;
}

}  // namespace

TEST_CASE("a record logged after 3 s idle reaches the file without flush()", "[footprint][idle]") {
  gidlog_test::file_session session("after_idle.log");
  const std::string& path = session.path;
  LOG_INFO("before the idle time");
  gidlog::flush();

  std::this_thread::sleep_for(3s);  // the scenario: an idle logger
  LOG_INFO("info after 3 s idle");
  const bool info_arrived = gidlog_test::wait_until([&] { return file_has(path, "] info after 3 s idle\n"); },
                                                    gidlog_test::wakeup_deadline(std::chrono::milliseconds(10000)));

  std::this_thread::sleep_for(3s);
  LOG_ERROR("error after 3 s idle");  // at options::flush_on
  const bool error_arrived = gidlog_test::wait_until([&] { return file_has(path, "] error after 3 s idle\n"); },
                                                     gidlog_test::wakeup_deadline(std::chrono::milliseconds(10000)));
  const auto lines = session.stop_and_read();
  CHECK(info_arrived);
  CHECK(error_arrived);
  CHECK(lines.size() == 3);
}
