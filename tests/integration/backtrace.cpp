// The backtrace ring: records below the level kept per logger, written once, oldest first and
// marked, just before the first record at or above the trigger, or by dump_backtrace(); never
// otherwise. Run-time format strings, good and bad.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gidlog/gidlog.h>

#include "log_capture.h"

struct rf_point {
  int x, y;
};
template <>
struct fmt::formatter<rf_point> : fmt::formatter<int> {
  auto format(const rf_point& p, format_context& ctx) const { return fmt::format_to(ctx.out(), "({}, {})", p.x, p.y); }
};

namespace {


struct session : gidlog_test::pattern_session {
  explicit session(std::size_t capacity, gidlog::level keep_from = gidlog::level::trace)
      : pattern_session("%n %L %v%C", [&] {
          gidlog::options opt;
          opt.backtrace = {.capacity = capacity, .trigger = gidlog::level::error, .keep_from = keep_from};
          return opt;
        }()) {}
};

}  // namespace

TEST_CASE("the ring is written once, in order, just before the trigger record", "[backtrace]") {
  session s(4);
  for (int i = 0; i < 6; ++i) LOG_DEBUG("debug {}", i);  // the ring keeps the last 4
  LOG_INFO("info");
  CHECK(s.lines() == std::vector<std::string>{"main I info"});  // kept, not written
  const std::string big(300, 'x');                                  // a spilled payload
  {
    gidlog::context_scope scope{{"req", "r-1"}};
    LOG_TRACE("trace {} {}", big.size(), big);
  }
  LOG_ERROR("error {}", 1);
  LOG_ERROR("error {}", 2);  // the ring is empty now: nothing before it
  LOG_WARN("warn");
  CHECK(s.lines() == std::vector<std::string>{
                         "main I info", "main D [backtrace] debug 3", "main D [backtrace] debug 4",
                         "main D [backtrace] debug 5", "main T [backtrace] trace 300 " + big + " req=r-1",
                         "main E error 1", "main E error 2", "main W warn"});
}

TEST_CASE("each logger has its own ring, dump_backtrace writes them all", "[backtrace]") {
  session s(8, gidlog::level::debug);
  gidlog::logger& db = gidlog::get_logger("bt.db");
  LOGGER_DEBUG(db, "db {}", 1);
  LOGGER_TRACE(db, "below keep_from");
  LOG_DEBUG("root {}", 2);
  LOGGER_ERROR(db, "db failed");  // the db ring only
  CHECK(s.lines() == std::vector<std::string>{"bt.db D [backtrace] db 1", "bt.db E db failed"});
  gidlog::dump_backtrace();
  CHECK(s.lines().back() == "main D [backtrace] root 2");
  gidlog::dump_backtrace();  // empty rings: nothing
  CHECK(s.lines().size() == 3);
}

TEST_CASE("without a ring, records below the level are dropped and never written", "[backtrace]") {
  session s(0);
  LOG_DEBUG("dropped");
  LOG_ERROR("error");
  gidlog::dump_backtrace();
  CHECK(s.lines() == std::vector<std::string>{"main E error"});
}

TEST_CASE("run-time format strings are formatted on the backend, a bad one says so", "[runtime_format]") {
  session s(0);
  const std::string good = "{} and {:>5} and {name}";
  std::string bad = "{} and {:d}";
  const auto errors_before = gidlog::get_counters().format_errors;
  LOG_INFO(gidlog::runtime_format(good), 1, "ab", 2.5);
  LOG_INFO(fmt::runtime(good), 2, "cd", -1);
  LOG_INFO(gidlog::runtime_format(bad), 3, "not a number");
  LOG_INFO(gidlog::runtime_format("{} {}"), 4);  // too few arguments
  LOG_INFO(gidlog::runtime_format("{"), 5);
  LOGGER_WARN(gidlog::get_logger("rf.named"), gidlog::runtime_format(good), 6, "ef", 'g');
  // A user type is formatted on the caller, with the run-time string there too.
  LOG_INFO(gidlog::runtime_format("{} {:x}"), rf_point{1, 2}, 255);
  LOG_INFO(gidlog::runtime_format("{} {:q}"), rf_point{1, 2}, 255);
  bad = "overwritten after the call";
  auto lines = s.lines();
  REQUIRE(lines.size() == 8);
  CHECK(lines[0] == "main I " + fmt::format(fmt::runtime("{} and {:>5} and {}"), 1, "ab", 2.5));
  CHECK(lines[1] == "main I " + fmt::format(fmt::runtime("{} and {:>5} and {}"), 2, "cd", -1));
  CHECK(lines[2].rfind("main I [gidlog: format error: ", 0) == 0);
  CHECK(lines[2].find("; format \"{} and {:d}\"]") != std::string::npos);
  CHECK(lines[3] == "main I [gidlog: format error: 2 placeholders for 1 arguments; format \"{} {}\"]");
  CHECK(lines[4].rfind("main I [gidlog: format error: ", 0) == 0);
  CHECK(lines[5] == "rf.named W " + fmt::format(fmt::runtime("{} and {:>5} and {}"), 6, "ef", 'g'));
  CHECK(lines[6] == "main I (1, 2) ff");
  CHECK(lines[7].rfind("main I [gidlog: format error: ", 0) == 0);
  CHECK(lines[7].find("; format \"{} {:q}\"]") != std::string::npos);
  CHECK(gidlog::get_counters().format_errors - errors_before == 4);
}

TEST_CASE("invalid backtrace options make start() throw, naming the field", "[backtrace]") {
  gidlog::options opt;
  opt.backtrace.capacity = (std::size_t{1} << 20) + 1;
  CHECK_THROWS_WITH(gidlog::start(opt), Catch::Contains("gidlog::options::backtrace.capacity"));
  opt.backtrace.capacity = 8;
  opt.backtrace.keep_from = static_cast<gidlog::level>(9);
  CHECK_THROWS_WITH(gidlog::start(opt), Catch::Contains("gidlog::options::backtrace.keep_from"));
  opt.backtrace.keep_from = gidlog::level::trace;
  opt.backtrace.trigger = static_cast<gidlog::level>(7);
  CHECK_THROWS_WITH(gidlog::start(opt), Catch::Contains("gidlog::options::backtrace.trigger"));
  CHECK_FALSE(gidlog::running());
}
