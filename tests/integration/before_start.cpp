// A fresh process: a record logged before the first start() is written synchronously to
// stderr; one logged after stop() goes synchronously to the sinks of the last start().
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <gidlog/gidlog.h>

#include "log_capture.h"

namespace {
std::string message_of(const std::string& line) {
  auto p = line.find("] ");
  return p == std::string::npos ? line : line.substr(p + 2);
}
}  // namespace

TEST_CASE("a record logged before start goes to stderr, one after stop to the last sinks", "[logger]") {
  // Capture stderr in a file for the pre-start record.
  std::string err_path = gidlog_test::temp_path("stderr.txt");
  int saved = ::dup(2);
  int fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  ::dup2(fd, 2);
  LOG_INFO("before start {}", 1);
  ::dup2(saved, 2);
  ::close(fd);
  ::close(saved);
  std::string err = gidlog_test::read_file(err_path);
  ::unlink(err_path.c_str());
  CHECK(err.find("before start 1\n") != std::string::npos);
  CHECK(err.find(":INFO:gid-") != std::string::npos);

  auto sink = std::make_shared<gidlog_test::test_sink>();
  gidlog::options opt;
  opt.sinks = {sink};
  gidlog::start(opt);
  LOG_INFO("during");
  gidlog::stop();
  CHECK_FALSE(gidlog::running());
  LOG_INFO("after stop {}", 2);  // synchronous: present as soon as the call returns
  auto lines = sink->lines();
  REQUIRE(lines.size() == 2);
  CHECK(message_of(lines[1]) == "after stop 2");
}

