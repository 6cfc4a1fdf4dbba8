// Named loggers: their own levels and sinks (additive or not), %n and the JSON "logger" key,
// GIDLOG_LEVEL's per-logger parts (bad parts reported, good ones applied), and the runtime's
// "gidlog.runtime" logger being one of them.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gidlog/gidlog.h>

#include "log_capture.h"
#include "test_sink.h"

namespace {

using gidlog_test::test_sink;

// The root logger's sink, with a pattern that is easy to check: "<logger> <LEVEL> <message>".
struct session {
  std::shared_ptr<test_sink> sink = std::make_shared<test_sink>();
  std::vector<std::string> errors;
  std::mutex mu;
  explicit session(gidlog::options opt = {}) {
    opt.sinks.insert(opt.sinks.begin(), sink);
    opt.pattern = "%n %l %v";
    opt.error_handler = [this](std::string_view e) {
      std::lock_guard<std::mutex> lock(mu);
      errors.emplace_back(e);
    };
    gidlog::start(opt);
  }
  ~session() { gidlog::stop(); }
  std::vector<std::string> lines() {
    gidlog::flush();
    return sink->lines();
  }
};

}  // namespace

TEST_CASE("a named logger has its own level, without one it follows the global level", "[loggers]") {
  session s;
  gidlog::logger& db = gidlog::get_logger("t1.db");
  gidlog::logger& http = gidlog::get_logger("t1.http");
  CHECK(&db == &gidlog::get_logger("t1.db"));  // one logger per name
  CHECK(db.name() == "t1.db");
  db.set_level(gidlog::level::debug);
  CHECK(db.level() == gidlog::level::debug);
  CHECK(http.level() == gidlog::level::info);  // the global level
  LOGGER_DEBUG(db, "db debug {}", 1);
  LOGGER_DEBUG(http, "http debug {}", 2);
  LOG_DEBUG("root debug");
  LOGGER_INFO(http, "http info");
  gidlog::set_level(gidlog::level::warn);  // http follows, db keeps its own
  LOGGER_INFO(http, "http info hidden");
  LOGGER_DEBUG(db, "db debug again");
  http.set_level(gidlog::level::trace);
  LOGGER_TRACE(http, "http trace");
  http.reset_level();
  LOGGER_INFO(http, "http info hidden again");
  gidlog::set_level(gidlog::level::info);
  db.reset_level();
  LOGGER_DEBUG(db, "db debug hidden");
  GIDLOG_LOGGER_WARN(db, "db warn {}", "twin");
  CHECK(s.lines() == std::vector<std::string>{"t1.db DEBUG db debug 1", "t1.http INFO http info",
                                              "t1.db DEBUG db debug again", "t1.http TRACE http trace",
                                              "t1.db WARN db warn twin"});
}

TEST_CASE("a named logger's own sinks: additive goes to both, not additive to its own only", "[loggers]") {
  auto audit = std::make_shared<test_sink>();
  auto side = std::make_shared<test_sink>();
  gidlog::logger& a = gidlog::get_logger("t2.audit", {.sinks = {audit}, .additive = false});
  gidlog::logger& b = gidlog::get_logger("t2.side", {.sinks = {side}, .additive = true});
  session s;
  LOGGER_INFO(a, "audit {}", 1);
  LOGGER_INFO(b, "side {}", 2);
  LOG_INFO("root {}", 3);
  CHECK(s.lines() == std::vector<std::string>{"t2.side INFO side 2", "main INFO root 3"});
  CHECK(audit->lines() == std::vector<std::string>{"t2.audit INFO audit 1"});
  CHECK(side->lines() == std::vector<std::string>{"t2.side INFO side 2"});
  // Reconfigured while running: from the next record on.
  a.configure({.sinks = {audit}, .additive = true});
  LOGGER_INFO(a, "audit {}", 4);
  CHECK(s.lines().back() == "t2.audit INFO audit 4");
  CHECK(audit->lines().back() == "t2.audit INFO audit 4");
  a.configure({});
  LOGGER_INFO(a, "audit {}", 5);
  CHECK(s.lines().back() == "t2.audit INFO audit 5");
  CHECK(audit->lines().size() == 2);
  CHECK_THROWS_WITH(gidlog::get_logger("t2.bad", {.sinks = {nullptr}}), Catch::Contains("logger_options::sinks[0]"));
}

TEST_CASE("the JSON sink writes a named logger's name under \"logger\"", "[loggers]") {
  const std::string path = gidlog_test::temp_path("named.jsonl");
  gidlog::options opt;
  opt.sinks = {gidlog::json_sink(path, {.file = {.truncate = true}})};
  session s(opt);
  gidlog::logger& pay = gidlog::get_logger("t3.payments");
  LOGGER_INFO(pay, "charged {amount}", 12);
  LOG_INFO("root");
  gidlog::flush();
  auto lines = gidlog_test::read_lines(path);
  REQUIRE(lines.size() == 2);
  auto j0 = nlohmann::json::parse(lines[0]);
  auto j1 = nlohmann::json::parse(lines[1]);
  CHECK(j0["logger"] == "t3.payments");
  CHECK(j0["msg"] == "charged 12");
  CHECK(j1["logger"] == "main");
  ::unlink(path.c_str());
}

TEST_CASE("GIDLOG_LEVEL sets per-logger levels, a bad part is reported and the others apply", "[loggers]") {
  ::setenv("GIDLOG_LEVEL", "warn, t4.db=debug,t4.http=loud,=info,t4.x=error,bogus", 1);
  {
    session s;
    ::unsetenv("GIDLOG_LEVEL");
    CHECK(gidlog::get_level() == gidlog::level::warn);
    CHECK(gidlog::get_logger("t4.db").level() == gidlog::level::debug);
    CHECK(gidlog::get_logger("t4.x").level() == gidlog::level::error);
    CHECK(gidlog::get_logger("t4.http").level() == gidlog::level::warn);  // bad part: follows the global
    LOGGER_DEBUG(gidlog::get_logger("t4.db"), "db debug");
    LOGGER_WARN(gidlog::get_logger("t4.x"), "x warn hidden");
    LOG_INFO("root info hidden");
    CHECK(s.lines() == std::vector<std::string>{"t4.db DEBUG db debug"});
    std::lock_guard<std::mutex> lock(s.mu);
    REQUIRE(s.errors.size() == 3);
    CHECK(s.errors[0] == "GIDLOG_LEVEL: \"t4.http=loud\" ignored: \"loud\" is not a level (trace, debug, info, warn, "
                         "error, fatal, off)");
    CHECK(s.errors[1] == "GIDLOG_LEVEL: \"=info\" ignored: no logger name before '='");
    CHECK(s.errors[2].find("\"bogus\" is not a level") != std::string::npos);
  }
  gidlog::get_logger("t4.db").reset_level();
  gidlog::get_logger("t4.x").reset_level();
  gidlog::set_level(gidlog::level::info);
}

TEST_CASE("the runtime logs through the named logger gidlog.runtime", "[loggers]") {
  session s;
  gidlog::logger& rt = gidlog::get_logger("gidlog.runtime");
  const gidlog::level before = gidlog::runtime_log_level();
  gidlog::set_runtime_log_level(gidlog::level::warn);
  CHECK(rt.level() == gidlog::level::warn);
  rt.set_level(before);
  CHECK(gidlog::runtime_log_level() == before);
  LOGGER_INFO(rt, "as the runtime");
  CHECK(s.lines() == std::vector<std::string>{"gidlog.runtime INFO as the runtime"});
}
