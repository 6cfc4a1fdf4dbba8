// End-to-end through the real backend: prefix, argument types, long messages, levels, the
// synchronous paths before start() and after stop(), errors, bad input.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>

#include <fmt/format.h>

#include <gidlog/gidlog.h>

#include "log_capture.h"

using gidlog_test::logger_session;

namespace {

std::string message_of(const std::string& line) {
  auto p = line.find("] ");
  return p == std::string::npos ? line : line.substr(p + 2);
}

struct point {
  int x, y;
};

struct throws_when_formatted {};

// Opts in to deferred formatting: copied as bytes, formatted by the backend.
struct money {
  long long cents;
  char currency[4];
};
std::atomic<std::uint32_t> money_formatted_on{0};

// Opts in to deferred formatting, and its formatter writes part of its text, then throws on the
// backend (what == nullptr: throws something that is not a std::exception).
struct explodes_later {
  const char* what;
};

}  // namespace

template <>
struct gidlog::deferred_format<money> : std::true_type {};

template <>
struct fmt::formatter<money> : fmt::formatter<std::string_view> {
  auto format(const money& m, format_context& ctx) const {
    money_formatted_on.store(gidlog::gid());
    std::string s = fmt::format("{}.{:02} {}", m.cents / 100, m.cents % 100, m.currency);
    return fmt::formatter<std::string_view>::format(s, ctx);
  }
};

template <>
struct gidlog::deferred_format<explodes_later> : std::true_type {};

template <>
struct fmt::formatter<explodes_later> : fmt::formatter<std::string_view> {
  auto format(const explodes_later& e, format_context& ctx) const -> format_context::iterator {
    fmt::format_to(ctx.out(), "<d PARTIAL");
    if (e.what == nullptr) throw 42;
    throw std::runtime_error(e.what);
  }
};

template <>
struct fmt::formatter<point> : fmt::formatter<std::string_view> {
  auto format(const point& p, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "({}, {})", p.x, p.y);
  }
};

template <>
struct fmt::formatter<throws_when_formatted> : fmt::formatter<std::string_view> {
  auto format(const throws_when_formatted&, format_context&) const -> format_context::iterator {
    throw std::runtime_error("formatter exploded");
  }
};

TEST_CASE("the default prefix carries date, level, gid, file base name and line", "[logger]") {
  logger_session s;
  const int line = __LINE__ + 1;
  LOG_INFO("GameRoom Startup->");
  std::uint32_t worker_tid = 0;
  std::thread t([&] {
    worker_tid = static_cast<std::uint32_t>(::syscall(SYS_gettid));
    LOG_WARN("Start for HTTP server...");
  });
  t.join();
  auto lines = s.lines();
  REQUIRE(lines.size() == 2);
  std::smatch m;
  std::regex re(R"(^\[(\d{2})(\d{2})/(\d{6})\.(\d{3}):(INFO|WARN):gid-(\d+):basic\.cpp:(\d+)\] (.*)$)");
  REQUIRE(std::regex_match(lines[0], m, re));
  CHECK(m[5] == "INFO");
  CHECK(std::stoul(m[6]) == static_cast<unsigned long>(::getpid()));  // the main thread's TID is the PID
  CHECK(std::stoi(m[7]) == line);
  CHECK(m[8] == "GameRoom Startup->");
  REQUIRE(std::regex_match(lines[1], m, re));
  CHECK(m[5] == "WARN");
  CHECK(std::stoul(m[6]) == worker_tid);
  CHECK(m[8] == "Start for HTTP server...");
}

TEST_CASE("every built-in argument type arrives as fmt would format it", "[logger]") {
  logger_session s;
  std::string str = "std::string";
  std::string_view sv = "string_view";
  const char* cs = "c string";
  char buf[] = "char array";
  const void* ptr = reinterpret_cast<const void*>(0xdeadbeef);
  enum class color { red = 2 };
  LOG_INFO("{} {} {} {} {} {} {} {} {}", true, 'c', static_cast<signed char>(-1), static_cast<unsigned char>(200),
           static_cast<short>(-300), static_cast<unsigned short>(60000), INT_MIN, UINT_MAX, LLONG_MIN);
  LOG_INFO("{} {} {} {} {:.2f} {}", ULLONG_MAX, 1.5f, 0.1, 1.0L / 3, 2.0 / 3, ptr);
  LOG_INFO("{} {} {} {} {}", str, sv, cs, buf, nullptr);
  LOG_INFO("{} and {}", point{1, -2}, static_cast<int>(color::red));
  auto lines = s.lines();
  REQUIRE(lines.size() == 4);
  CHECK(message_of(lines[0]) == fmt::format("{} {} {} {} {} {} {} {} {}", true, 'c', -1, 200, -300, 60000, INT_MIN, UINT_MAX, LLONG_MIN));
  CHECK(message_of(lines[1]) == fmt::format("{} {} {} {} {:.2f} {}", ULLONG_MAX, 1.5f, 0.1, 1.0L / 3, 2.0 / 3, ptr));
  CHECK(message_of(lines[2]) == "std::string string_view c string char array 0x0");
  CHECK(message_of(lines[3]) == "(1, -2) and 2");
}

TEST_CASE("a string argument is copied at the call, not read later", "[logger]") {
  logger_session s;
  {
    std::string temp = "original";
    LOG_INFO("{}", temp);
    temp.assign(temp.size(), 'X');
  }
  CHECK(message_of(s.lines().at(0)) == "original");
}

TEST_CASE("a 1 MiB message reaches a file intact", "[logger]") {
  std::string path = gidlog_test::temp_path("big.log");
  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7919) % 26);
  {
    gidlog::options opt;
    opt.sinks = {gidlog::file_sink(path, {.truncate = true})};
    gidlog::start(opt);
    LOG_INFO("<{}>", big);
    LOG_INFO("after");
    gidlog::stop();
  }
  auto lines = gidlog_test::read_lines(path);
  ::unlink(path.c_str());
  REQUIRE(lines.size() == 2);
  CHECK(message_of(lines[0]) == "<" + big + ">");
  CHECK(message_of(lines[1]) == "after");
}

TEST_CASE("run-time level: below it nothing is written, set_level takes effect at once", "[logger]") {
  gidlog::options opt;
  opt.level = gidlog::level::warn;
  logger_session s(opt);
  int evaluated = 0;
  auto count = [&] { return ++evaluated; };
  LOG_INFO("hidden {}", count());
  LOG_DEBUG("hidden {}", count());
  LOG_WARN("shown {}", count());
  gidlog::set_level(gidlog::level::trace);
  CHECK(gidlog::get_level() == gidlog::level::trace);
  LOG_TRACE("trace {}", count());
  auto lines = s.lines();
  CHECK(evaluated == 2);  // arguments of filtered calls are not evaluated
  REQUIRE(lines.size() == 2);
  CHECK(message_of(lines[0]) == "shown 1");
  CHECK(message_of(lines[1]) == "trace 2");
}

TEST_CASE("GIDLOG_LEVEL overrides options::level; a bad value is reported and ignored", "[logger]") {
  ::setenv("GIDLOG_LEVEL", "error", 1);
  {
    logger_session s;
    LOG_WARN("hidden");
    LOG_ERROR("shown");
    auto lines = s.lines();
    REQUIRE(lines.size() == 1);
    CHECK(message_of(lines[0]) == "shown");
  }
  ::setenv("GIDLOG_LEVEL", "loud", 1);
  {
    std::vector<std::string> errors;
    gidlog::options opt;
    opt.level = gidlog::level::warn;
    opt.error_handler = [&errors](std::string_view e) { errors.emplace_back(e); };
    logger_session s(opt);
    ::unsetenv("GIDLOG_LEVEL");
    CHECK(gidlog::get_level() == gidlog::level::warn);  // options::level stands
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] == "GIDLOG_LEVEL: \"loud\" ignored: \"loud\" is not a level (trace, debug, info, warn, error, fatal, off)");
  }
  ::unsetenv("GIDLOG_LEVEL");
  gidlog::set_level(gidlog::level::info);
}

TEST_CASE("macros survive local names INFO, fmt and level, and unbraced if/else", "[logger]") {
  logger_session s;
  int INFO = 1, fmt = 2, level = 3, gidlog = 4;
  if (INFO == 1)
    LOG_INFO("a {} {} {} {}", INFO, fmt, level, gidlog);
  else
    LOG_ERROR("never");
  if (fmt == 0) GIDLOG_ERROR("never");
  else GIDLOG_INFO("b");
  auto lines = s.lines();
  REQUIRE(lines.size() == 2);
  CHECK(message_of(lines[0]) == "a 1 2 3 4");
  CHECK(message_of(lines[1]) == "b");
}

TEST_CASE("invalid options throw from start naming the field, and nothing starts", "[logger][options]") {
  auto rejects = [](gidlog::options o, const char* field) {
    try {
      gidlog::start(o);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what()).find(field) != std::string::npos && !gidlog::running();
    }
    gidlog::stop();
    return false;
  };
  gidlog::options o;
  o.queue_capacity = 0;
  CHECK(rejects(o, "queue_capacity"));
  o = {};
  o.sinks = {gidlog::file_sink("")};
  CHECK(rejects(o, "sinks[0]"));
  o = {};
  // A missing directory is made (even /nonexistent-dir as root); one under a regular file cannot be.
  o.sinks = {gidlog::console_sink(), gidlog::file_sink("/dev/null/x/app.log")};
  CHECK(rejects(o, "sinks[1]"));
  o = {};
  o.stop_signals = {SIGKILL};
  CHECK(rejects(o, "stop_signals[0]"));
  o = {};
  o.sinks = {nullptr};
  CHECK(rejects(o, "sinks[0]"));
  o = {};
  o.pattern = "%q";
  CHECK(rejects(o, "pattern"));
  o = {};
  o.queue_policy = gidlog::queue_policy::grow;
  o.grow_max_bytes = 1;
  CHECK(rejects(o, "grow_max_bytes"));
  o = {};
  o.backend_sleep = std::chrono::seconds(1);
  CHECK(rejects(o, "backend_sleep"));
}

TEST_CASE("start twice is an error; stop twice is fine; restart works", "[logger]") {
  auto sink = std::make_shared<gidlog_test::test_sink>();
  gidlog::options opt;
  opt.sinks = {sink};
  gidlog::start(opt);
  CHECK_THROWS_AS(gidlog::start(opt), std::logic_error);
  LOG_INFO("one");
  gidlog::stop();
  gidlog::stop();
  opt.queue_capacity = 1024;  // a new queue; the old thread token must be replaced
  gidlog::start(opt);
  LOG_INFO("two");
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == 2);
  CHECK(message_of(lines[1]) == "two");
}

TEST_CASE("a throwing formatter yields a line saying so and the backend carries on", "[logger]") {
  logger_session s;
  auto before = gidlog::get_counters().format_errors;
  LOG_INFO("value {}", throws_when_formatted{});
  LOG_INFO("next");
  auto lines = s.lines();
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[0], Catch::Contains("formatter exploded") && Catch::Contains("value {}"));
  CHECK(message_of(lines[1]) == "next");
  CHECK(gidlog::get_counters().format_errors == before + 1);
}

TEST_CASE("control characters and invalid UTF-8 are written byte for byte", "[logger]") {
  std::string path = gidlog_test::temp_path("ctl.log");
  static constexpr char raw[] = "tab\there\x01\x7f bad utf8 \xc3\x28 \xff end";
  std::string nasty(raw, sizeof raw - 1);
  {
    gidlog::options opt;
    opt.sinks = {gidlog::file_sink(path, {.truncate = true})};
    opt.pattern = "%v";
    gidlog::start(opt);
    LOG_INFO("{}", nasty);
    LOG_INFO("multi\nline");
    gidlog::stop();
  }
  CHECK(gidlog_test::read_file(path) == nasty + "\nmulti\nline\n");
  {
    gidlog::options opt;
    opt.sinks = {gidlog::file_sink(path, {.truncate = true})};
    opt.pattern = "%v";
    opt.escape_newlines = true;
    gidlog::start(opt);
    LOG_INFO("multi\nline");
    gidlog::stop();
  }
  CHECK(gidlog_test::read_file(path) == "multi\\nline\n");
  ::unlink(path.c_str());
}

TEST_CASE("a failing sink is reported once, counted, retried, and loses nothing", "[logger][sink]") {
  std::vector<std::string> errors;
  std::mutex mu;
  gidlog::options opt;
  opt.error_handler = [&](std::string_view e) {
    std::lock_guard<std::mutex> l(mu);
    errors.emplace_back(e);
  };
  auto good = std::make_shared<gidlog_test::test_sink>();
  opt.sinks = {good};
  logger_session s(opt);
  auto errors_before = gidlog::get_counters().sink_errors;
  s.sink->fail_next(5);
  for (int i = 0; i < 100; ++i) LOG_INFO("n={}", i);
  // flush() retries failing sinks; keep flushing until the backlog is delivered.
  for (int k = 0; k < 200 && s.sink->count() < 100; ++k) {
    gidlog::flush();
    if (s.sink->count() < 100) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // back-off window
  }
  auto lines = s.sink->lines();
  REQUIRE(lines.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(message_of(lines[static_cast<std::size_t>(i)]) == fmt::format("n={}", i));
  CHECK(good->count() == 100);  // the other sink never waited
  CHECK(gidlog::get_counters().sink_errors - errors_before == 5);
  std::lock_guard<std::mutex> l(mu);
  REQUIRE(errors.size() == 2);
  CHECK_THAT(errors[0], Catch::Contains("injected failure"));
  CHECK_THAT(errors[1], Catch::Contains("recovered after 5"));
}

TEST_CASE("a record at flush_on or above flushes the sinks", "[logger][sink]") {
  gidlog::options opt;
  opt.flush_on = gidlog::level::warn;
  logger_session s(opt);
  auto before = s.sink->flushes();
  LOG_INFO("no flush needed");
  LOG_WARN("flush now");
  gidlog::flush();
  CHECK(s.sink->flushes() >= before + 2);  // one for the WARN, one for flush()
}

TEST_CASE("a deferred_format type is copied as bytes and formatted on the backend", "[logger]") {
  logger_session s;
  money m{12345, "EUR"};
  LOG_INFO("paid {} and {:>14}|", m, m);
  m.cents = 0;  // the record holds its own copy
  LOG_INFO("[{:>{}}] generic path", m, 12);
  auto lines = s.lines();
  REQUIRE(lines.size() == 2);
  CHECK(message_of(lines[0]) == "paid 123.45 EUR and     123.45 EUR|");
  CHECK(message_of(lines[1]) == "[    0.00 EUR] generic path");
  CHECK(money_formatted_on.load() != gidlog::gid());  // not formatted on the caller
}

TEST_CASE("a deferred_format type whose formatter throws on the backend yields a note, no partial text",
          "[logger]") {
  logger_session s;
  auto before = gidlog::get_counters().format_errors;
  LOG_INFO("a {} b", explodes_later{"deferred formatter exploded"});
  LOG_INFO("c {:>20} d", explodes_later{"with a spec"});
  LOG_INFO("e [{:>{}}] f", explodes_later{"on the generic path"}, 20);
  LOG_INFO("g {} h", explodes_later{nullptr});
  LOG_INFO("next");
  auto lines = s.lines();
  REQUIRE(lines.size() == 5);
  CHECK(message_of(lines[0]) == "[gidlog: formatting threw: deferred formatter exploded; format \"a {} b\"]");
  CHECK(message_of(lines[1]) == "[gidlog: formatting threw: with a spec; format \"c {:>20} d\"]");
  CHECK(message_of(lines[2]) == "[gidlog: formatting threw: on the generic path; format \"e [{:>{}}] f\"]");
  CHECK(message_of(lines[3]) == "[gidlog: formatting threw: unknown exception; format \"g {} h\"]");
  for (int i = 0; i < 4; ++i) CHECK_THAT(lines[static_cast<std::size_t>(i)], !Catch::Contains("PARTIAL"));
  CHECK(message_of(lines[4]) == "next");
  CHECK(gidlog::get_counters().format_errors == before + 4);
}
