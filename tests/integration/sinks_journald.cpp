// The journald sink against a real systemd-journald, run privately by the test in a mount
// namespace of its own (tests/support/journald_daemon.h), read back with `journalctl -o json`:
// every record once and in order, with its priority, site, gid, identifier, logger, context keys
// and named arguments as journal fields under the documented names and collision rules; a record
// larger than a datagram whole through a sealed memfd; no journald (no socket, then a killed one)
// counted and reported as sink errors, with no hang, and every record delivered once it is back.
#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <gidlog/gidlog.h>
#include <gidlog/sinks/journald.h>

#include "journald_daemon.h"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using nlohmann::json;

struct expected {
  int priority;
  std::string message;
  int line;
  std::uint32_t tid;
  std::string logger;
  std::map<std::string, json> fields;  // besides the fixed ones: a string, or an array when repeated
};

std::int64_t now_usec() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What the test's error handler saw.
struct error_log {
  std::mutex mu;
  std::vector<std::string> lines;
  void add(std::string_view e) {
    std::lock_guard<std::mutex> lock(mu);
    lines.emplace_back(e);
  }
  bool any_contains(std::string_view s) {
    std::lock_guard<std::mutex> lock(mu);
    for (const std::string& l : lines)
      if (l.find(s) != std::string::npos) return true;
    return false;
  }
};

// The records matching `match` (e.g. "REQ=r-42"), as `journalctl -o json` gives them.
std::vector<json> query(const gidlog_test::journald_daemon& d, const std::string& match) {
  std::vector<json> out;
  std::istringstream in(d.journalctl({"-o", "json", match}));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

std::vector<std::string> messages_of(const std::vector<json>& recs) {
  std::vector<std::string> out;
  for (const json& r : recs) out.push_back(r.value("MESSAGE", "<no MESSAGE>"));
  return out;
}

}  // namespace

TEST_CASE("journald sink: every record once, in order, each key a journal field, from a real journald",
          "[journald]") {
  gidlog_test::journald_daemon d;
  const gidlog::sink_ptr sink = gidlog::journald_sink({.socket_path = d.socket(), .syslog_identifier = "gl-test"});
  gidlog::options opt;
  opt.sinks = {sink};
  opt.level = gidlog::level::trace;
  gidlog::start(opt);
  const std::int64_t t0 = now_usec();
  const std::uint32_t me = gidlog::gid();

  std::vector<expected> want;
  int l;
  {
    gidlog::context_scope scope{{"req", "r-42"}, {"user_id", 7}};
    const std::map<std::string, json> ctx{{"REQ", "r-42"}, {"USER_ID", "7"}};
    auto with = [&](std::map<std::string, json> m) {
      m.insert(ctx.begin(), ctx.end());
      return m;
    };
    constexpr int n = 200;
    for (int i = 0; i < n; ++i) {
      // clang-format off
      l = __LINE__; LOG_INFO("item {seq} of {total}: {ms} ms, ok={ok}", i, n, i * 0.25, i % 3 == 0);
      // clang-format on
      want.push_back({6, fmt::format("item {} of {}: {} ms, ok={}", i, n, i * 0.25, i % 3 == 0), l, me, "main",
                      with({{"SEQ", std::to_string(i)},
                            {"TOTAL", std::to_string(n)},
                            {"MS", fmt::format("{}", i * 0.25)},
                            {"OK", i % 3 == 0 ? "true" : "false"}})});
    }
    // clang-format off
    l = __LINE__; LOG_TRACE("trace {}", -5);
    want.push_back({7, "trace -5", l, me, "main", with({{"ARG0", "-5"}})});
    l = __LINE__; LOG_DEBUG("debug {big}", 18446744073709551615ull);
    want.push_back({7, "debug 18446744073709551615", l, me, "main", with({{"BIG", "18446744073709551615"}})});
    l = __LINE__; LOG_WARN("warn {tiny}", 1e-9);
    want.push_back({4, "warn 1e-09", l, me, "main", with({{"TINY", "1e-09"}})});
    // A newline in the message and in a value: the protocol's binary form, whole.
    l = __LINE__; LOG_ERROR("two\nlines {note}", "a\nb=c");
    want.push_back({3, "two\nlines a\nb=c", l, me, "main", with({{"NOTE", "a\nb=c"}})});
    // Names: upper-cased, '_' for other bytes, "F_" before a leading '_' or digit and before a
    // fixed field's name; a repeated name is a repeated field (context first).
    {
      gidlog::context_scope odd{{"http-status", 503}, {"2fa", true}, {"_hidden", "h"}, {"message", "ctx-msg"},
                                {"caf\xc3\xa9", "latte"}, {"user-id", 8}, {"", "empty"}};
      l = __LINE__; LOG_INFO("names {tid} {Mixed_Case} {_under} {req} {code_line}", 1, 2, 3, "r-42b", 4);
      want.push_back({6, "names 1 2 3 r-42b 4", l, me, "main",
                      {{"HTTP_STATUS", "503"}, {"F_2FA", "true"}, {"F__HIDDEN", "h"}, {"F_MESSAGE", "ctx-msg"},
                       {"CAF__", "latte"}, {"USER_ID", json::array({"7", "8"})}, {"F_", "empty"},
                       {"F_TID", "1"}, {"MIXED_CASE", "2"}, {"F__UNDER", "3"},
                       {"REQ", json::array({"r-42", "r-42b"})}, {"F_CODE_LINE", "4"}}});
    }
    // An identical NAME=value twice in one record: journald stores it once.
    l = __LINE__; LOG_INFO("same {req}", "r-42");
    want.push_back({6, "same r-42", l, me, "main", with({})});
    l = __LINE__; LOGGER_INFO(gidlog::get_logger("db"), "from {table}", "users");
    want.push_back({6, "from users", l, me, "db", with({{"TABLE", "users"}})});
    // clang-format on
    std::uint32_t other = 0;
    std::thread t([&, snap = gidlog::context::get()] {
      gidlog::context_scope s{snap};
      other = gidlog::gid();
      // clang-format off
      l = __LINE__; LOG_INFO("from another thread");
      // clang-format on
    });
    t.join();
    want.push_back({6, "from another thread", l, other, "main", with({})});
  }
  LOG_INFO("no context: not in the query");
  gidlog::flush();
  const std::int64_t t1 = now_usec();
  d.sync();
  const std::vector<json> recs = query(d, "REQ=r-42");
  gidlog::stop();
  INFO("journald said: " << d.output());

  std::vector<std::string> want_msgs;
  for (const expected& e : want) want_msgs.push_back(e.message);
  REQUIRE(messages_of(recs) == want_msgs);  // each once, in order
  const std::vector<std::string> fixed{"MESSAGE",         "PRIORITY",      "CODE_FILE",       "CODE_LINE", "CODE_FUNC",
                                       "TID", "SYSLOG_IDENTIFIER", "GIDLOG_LOGGER", "GIDLOG_TIME_USEC"};
  for (std::size_t i = 0; i < recs.size(); ++i) {
    const json& r = recs[i];
    const expected& e = want[i];
    INFO("record " << i << ": " << r.dump());
    CHECK(r["PRIORITY"] == std::to_string(e.priority));
    CHECK(r["CODE_FILE"] == "sinks_journald.cpp");
    CHECK(r["CODE_LINE"] == std::to_string(e.line));
    CHECK(r["CODE_FUNC"].is_string());
    CHECK(r["TID"] == std::to_string(e.tid));
    CHECK(r["SYSLOG_IDENTIFIER"] == "gl-test");
    CHECK(r["GIDLOG_LOGGER"] == e.logger);
    CHECK(r["_TRANSPORT"] == "journal");
    CHECK(r["_PID"] == std::to_string(::getpid()));
    const std::int64_t logged = std::stoll(r["GIDLOG_TIME_USEC"].get<std::string>());
    CHECK(logged >= t0);
    CHECK(logged <= t1);
    CHECK(logged <= std::stoll(r["__REALTIME_TIMESTAMP"].get<std::string>()));
    // Exactly the expected fields besides the fixed ones and journald's own ("_" and "__" names).
    std::map<std::string, json> got;
    for (const auto& [k, v] : r.items())
      if (!k.starts_with('_') && std::find(fixed.begin(), fixed.end(), k) == fixed.end()) got[k] = v;
    CHECK(got == e.fields);
  }
  const auto c = gidlog::get_journald_counters(sink);
  CHECK(c.sent == want.size() + 1);
  CHECK(c.via_memfd == 0);
  CHECK(c.connects == 1);
  CHECK(gidlog::get_counters().sink_errors == 0);
}

TEST_CASE("journald sink: a record larger than a datagram arrives whole through a sealed memfd", "[journald]") {
  gidlog_test::journald_daemon d;
  const gidlog::sink_ptr sink = gidlog::journald_sink({.socket_path = d.socket()});
  gidlog::options opt;
  opt.sinks = {sink};
  gidlog::start(opt);
  std::string big;
  for (int i = 0; big.size() < 300 * 1024; ++i) big += fmt::format("{:08d}\n", i);  // newlines: binary items
  {
    gidlog::context_scope scope{{"req", "big-1"}};
    LOG_INFO("small before");
    LOG_INFO("{payload}", big);
    LOG_INFO("small after");
  }
  gidlog::flush();
  d.sync();
  const std::vector<json> recs = query(d, "REQ=big-1");
  gidlog::stop();
  const auto c = gidlog::get_journald_counters(sink);
  INFO("journald said: " << d.output());
  INFO("sent " << c.sent << ", via memfd " << c.via_memfd << ", sink errors " << gidlog::get_counters().sink_errors);
  REQUIRE(recs.size() == 3);
  CHECK(recs[0]["MESSAGE"] == "small before");
  REQUIRE(recs[1]["MESSAGE"].is_string());
  CHECK(recs[1]["MESSAGE"].get<std::string>().size() == big.size());
  CHECK(recs[1]["MESSAGE"] == big);
  CHECK(recs[1]["PAYLOAD"] == big);
  CHECK(recs[1]["SYSLOG_IDENTIFIER"] == program_invocation_short_name);
  CHECK(recs[2]["MESSAGE"] == "small after");
  CHECK(c.sent == 3);
  CHECK(c.via_memfd == 1);
  CHECK(gidlog::get_counters().sink_errors == 0);
}

TEST_CASE("journald sink: no journald is a sink error, counted, reported and retried, never a hang",
          "[journald]") {
  gidlog_test::journald_daemon d(false);  // its socket path, but nothing there yet: ENOENT
  error_log errors;
  const gidlog::sink_ptr sink = gidlog::journald_sink({.socket_path = d.socket()});
  gidlog::options opt;
  opt.sinks = {sink};
  opt.error_handler = [&](std::string_view e) { errors.add(e); };
  gidlog::start(opt);  // a missing journald is no option error
  gidlog::context_scope scope{{"req", "outage"}};
  std::vector<std::string> want;
  auto log = [&](const std::string& phase, int count) {
    for (int i = 0; i < count; ++i) {
      LOG_INFO("{phase} {i}", phase, i);
      want.push_back(fmt::format("{} {}", phase, i));
    }
  };

  // No socket at all.
  auto t = clock_type::now();
  log("absent", 30);
  gidlog::flush();  // returns: the records wait in the backlog
  const auto flush_absent = clock_type::now() - t;
  const auto errors_absent = gidlog::get_counters().sink_errors;
  CHECK(errors_absent > 0);
  CHECK(flush_absent < gidlog_test::wakeup_deadline(5s));
  CHECK(errors.any_contains("No such file or directory"));
  CHECK(errors.any_contains(d.socket()));
  CHECK(gidlog::get_journald_counters(sink).sent == 0);

  // journald starts: the backlog's next retry delivers them, then new ones follow.
  d.start();
  log("started", 30);
  gidlog::flush();
  d.sync();
  std::vector<json> recs = query(d, "REQ=outage");
  CHECK(messages_of(recs) == want);

  // journald killed: its socket file stays, nobody reads it (ECONNREFUSED).
  d.kill();
  t = clock_type::now();
  log("killed", 30);
  gidlog::flush();
  const auto flush_killed = clock_type::now() - t;
  CHECK(gidlog::get_counters().sink_errors > errors_absent);
  CHECK(flush_killed < gidlog_test::wakeup_deadline(5s));
  CHECK(errors.any_contains("Connection refused"));

  d.start();
  log("restarted", 30);
  gidlog::flush();
  d.sync();
  recs = query(d, "REQ=outage");
  t = clock_type::now();
  gidlog::stop();
  CHECK(clock_type::now() - t < gidlog_test::wakeup_deadline(5s));
  INFO("journald said: " << d.output());
  CHECK(messages_of(recs) == want);  // each once, in order, across both outages
  const auto c = gidlog::get_journald_counters(sink);
  CHECK(c.sent == want.size());
  CHECK(c.connects == 2);  // at the first start and after the restart: a refused attempt makes none
  CHECK(gidlog::get_counters().sink_dropped == 0);
  CHECK(errors.any_contains("recovered"));
}

TEST_CASE("journald sink: bad options make start() throw naming the field", "[journald]") {
  gidlog::options opt;
  opt.sinks = {gidlog::journald_sink({.socket_path = ""})};
  CHECK_THROWS_WITH(gidlog::start(opt), Catch::Contains("socket_path"));
  opt.sinks = {gidlog::journald_sink({.socket_path = std::string(200, 'x')})};
  CHECK_THROWS_WITH(gidlog::start(opt), Catch::Contains("socket_path"));
  opt.sinks = {gidlog::journald_sink({.timeout = 0ms})};
  CHECK_THROWS_WITH(gidlog::start(opt), Catch::Contains("timeout"));
}
