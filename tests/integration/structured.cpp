// Named fields from the format string, and context_scope fields on every record of the scope, as
// a structured sink sees them; the text line; context carried across the pool and the limiter.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <gidlog/gidlog.h>

#include "test_sink.h"

namespace {

// A field rendered with its type: "s:alice", "i:-3", "u:7", "d:3.25", "b:true".
std::string typed(const gidlog::field_value& v) {
  using k = gidlog::field_value::kind;
  switch (v.type) {
    case k::boolean: return v.b ? "b:true" : "b:false";
    case k::signed_integer: return "i:" + std::to_string(v.i);
    case k::unsigned_integer: return "u:" + std::to_string(v.u);
    case k::floating: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "d:%g", v.d);
      return buf;
    }
    case k::string: return "s:" + std::string(v.s);
    case k::json: return "j:" + std::string(v.s);  // only the crash record's frames
  }
  return "?";
}

struct seen_line {
  std::string text, message, format;
  std::vector<std::pair<std::string, std::string>> fields, context;
  std::uint32_t gid = 0;
  std::string ctx(const std::string& key) const {
    for (const auto& [k, v] : context)
      if (k == key) return v;
    return "";
  }
};

// Copies everything a structured sink gets; can fail its next writes.
class field_sink final : public gidlog::sink {
 public:
  void write(const gidlog::log_line& l) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (held_) {
      in_write_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return !held_; });
    }
    if (fail_ > 0) {
      --fail_;
      throw std::runtime_error("injected failure");
    }
    seen_line s{std::string(l.text), std::string(l.message), std::string(l.format), {}, {}, l.gid};
    for (const gidlog::field& f : l.fields) s.fields.emplace_back(std::string(f.name), typed(f.value));
    for (const gidlog::field& f : l.context) s.context.emplace_back(std::string(f.name), typed(f.value));
    lines_.push_back(std::move(s));
  }
  bool wants_text() const noexcept override { return wants_text_; }
  bool wants_fields() const noexcept override { return wants_fields_; }
  std::vector<seen_line> lines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  void fail_next(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ = n;
  }
  // While held, write() waits; wait_held() returns once the backend is waiting there.
  void hold() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = true;
  }
  void wait_held() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return in_write_; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  bool wants_text_ = true;
  bool wants_fields_ = true;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<seen_line> lines_;
  int fail_ = 0;
  bool held_ = false, in_write_ = false;
};

using fields_t = std::vector<std::pair<std::string, std::string>>;

std::shared_ptr<field_sink> start_with(const std::string& pattern = "%v", bool wants_text = true) {
  auto sink = std::make_shared<field_sink>();
  sink->wants_text_ = wants_text;
  gidlog::options opt;
  opt.sinks = {sink};
  opt.pattern = pattern;
  opt.level = gidlog::level::trace;
  opt.queue_capacity = 32 * 1024;  // one test queues 20 000 records behind a held sink
  gidlog::start(opt);
  return sink;
}

struct point {
  int x, y;
};

}  // namespace

template <>
struct fmt::formatter<point> : fmt::formatter<std::string_view> {
  auto format(const point& p, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "({}, {})", p.x, p.y);
  }
};
template <>
struct gidlog::deferred_format<point> : std::true_type {};

TEST_CASE("named placeholders: the text drops the names, the fields carry them with their types") {
  auto sink = start_with();
  std::string user = "alice";
  const char* ip = "10.0.0.1";
  double ms = 3.21;
  LOG_INFO("login {user} from {ip} took {ms:.1f} ms", user, ip, ms);
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].message == "login alice from 10.0.0.1 took 3.2 ms");
  CHECK(lines[0].text == "login alice from 10.0.0.1 took 3.2 ms\n");
  CHECK(lines[0].format == "login {user} from {ip} took {ms:.1f} ms");
  CHECK(lines[0].fields == fields_t{{"user", "s:alice"}, {"ip", "s:10.0.0.1"}, {"ms", "d:3.21"}});
  CHECK(lines[0].context.empty());
}

TEST_CASE("unnamed placeholders are arg0, arg1, ...; every built-in kind keeps its type") {
  auto sink = start_with();
  int neg = -3;
  unsigned long long big = 18446744073709551615ull;
  LOG_INFO("{} {:>4} {} {} {} {flag} {c}", neg, 7u, big, 2.5f, point{1, 2}, true, 'x');
  LOG_INFO("no placeholders");
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].message == "-3    7 18446744073709551615 2.5 (1, 2) true x");
  CHECK(lines[0].fields == fields_t{{"arg0", "i:-3"},
                                    {"arg1", "u:7"},
                                    {"arg2", "u:18446744073709551615"},
                                    {"arg3", "d:2.5"},
                                    {"arg4", "s:(1, 2)"},
                                    {"flag", "b:true"},
                                    {"c", "s:x"}});
  CHECK(lines[1].fields.empty());
  CHECK(lines[1].format == "no placeholders");
}

TEST_CASE("names in nested specs, escaped braces and manual indices") {
  auto sink = start_with();
  LOG_INFO("{{literal}} {value:>{width}}|", 42, 6);
  LOG_INFO("{1} before {0}", "a", "b");
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].message == "{literal}     42|");
  CHECK(lines[0].fields == fields_t{{"value", "i:42"}, {"width", "i:6"}});
  CHECK(lines[1].message == "b before a");
  CHECK(lines[1].fields == fields_t{{"arg0", "s:a"}, {"arg1", "s:b"}});
}

TEST_CASE("a user type formatted on the caller keeps its message; its record has no typed fields") {
  auto sink = start_with();
  std::vector<int> v{1, 2};  // not deferred_format: formatted on the calling thread
  LOG_INFO("v={items} n={n}", fmt::join(v, ","), 2);
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].message == "v=1,2 n=2");
  CHECK(lines[0].fields.empty());
  CHECK(lines[0].format == "v={items} n={n}");
}

TEST_CASE("context_scope: every record of the scope carries its fields; nested scopes shadow and pop") {
  auto sink = start_with("%v%C");
  LOG_INFO("before");
  {
    gidlog::context_scope outer{{"req", "r-42"}, {"user_id", 7}};
    LOG_INFO("outer");
    {
      gidlog::context_scope inner{{"req", "r-43"}, {"step", "two words"}, {"ok", true}};
      LOG_INFO("inner");
    }
    LOG_INFO("outer again");
  }
  LOG_INFO("after");
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == 5);
  CHECK(lines[0].context.empty());
  CHECK(lines[0].text == "before\n");
  CHECK(lines[1].context == fields_t{{"req", "s:r-42"}, {"user_id", "i:7"}});
  CHECK(lines[1].text == "outer req=r-42 user_id=7\n");
  CHECK(lines[2].context == fields_t{{"req", "s:r-43"}, {"user_id", "i:7"}, {"step", "s:two words"}, {"ok", "b:true"}});
  CHECK(lines[2].text == "inner req=r-43 user_id=7 step=\"two words\" ok=true\n");
  CHECK(lines[3].context == fields_t{{"req", "s:r-42"}, {"user_id", "i:7"}});
  CHECK(lines[4].context.empty());
}

TEST_CASE("%C quotes values as logfmt does: spaces, quotes, equals signs, newlines, empty") {
  auto sink = start_with("%v%C");
  {
    gidlog::context_scope s{{"a", "say \"hi\""}, {"b", "x=y"}, {"c", "line\nbreak"}, {"d", ""}, {"e", "back\\slash"}};
    LOG_INFO("m");
  }
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].text == "m a=\"say \\\"hi\\\"\" b=\"x=y\" c=\"line\\nbreak\" d=\"\" e=back\\slash\n");
}

TEST_CASE("context::get() carries the fields to a thread gidlog does not own") {
  auto sink = start_with();
  gidlog::context snap;
  {
    gidlog::context_scope s{{"req", "r-7"}};
    snap = gidlog::context::get();
  }
  CHECK(!snap.empty());
  REQUIRE(snap.fields().size() == 1);
  CHECK(snap.fields()[0].name == "req");
  std::uint32_t other_gid = 0;
  std::thread t([&] {
    gidlog::context_scope s{snap};
    other_gid = gidlog::gid();
    LOG_INFO("on another thread");
  });
  t.join();
  LOG_INFO("here, no context");
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].gid == other_gid);
  CHECK(lines[0].context == fields_t{{"req", "s:r-7"}});
  CHECK(lines[1].context.empty());
}

TEST_CASE("a scope's snapshot outlives the scope while its records wait in the queue and the backlog") {
  // The backend is held inside the sink's first write while 20 000 scopes open and close, so
  // every record and its snapshot wait in the queue; then the sink fails once, so they wait in
  // the backlog too. Each record must still show its own scope's values: freed too early, ASan
  // reports a use after free; reused, the values would not match.
  auto sink = start_with();
  sink->hold();
  LOG_INFO("first");
  sink->wait_held();
  for (int i = 0; i < 20000; ++i) {
    gidlog::context_scope s{{"i", i}, {"text", std::string(40, static_cast<char>('a' + i % 26))}};
    LOG_INFO("record {n}", i);
  }
  sink->fail_next(1);
  sink->release();
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == 20001);
  for (int i = 0; i < 20000; ++i) {
    const seen_line& l = lines[static_cast<std::size_t>(i) + 1];
    REQUIRE(l.fields == fields_t{{"n", "i:" + std::to_string(i)}});
    REQUIRE(l.ctx("i") == "i:" + std::to_string(i));
    REQUIRE(l.ctx("text") == "s:" + std::string(40, static_cast<char>('a' + i % 26)));
  }
}

TEST_CASE("a sink that never reads the text gets the message alone, with fields and context") {
  auto sink = start_with("[%l] %v%C", false);
  {
    gidlog::context_scope s{{"req", "r-1"}};
    LOG_WARN("disk {pct}% full", 93);
  }
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].message == "disk 93% full");
  CHECK(lines[0].text == "disk 93% full");
  CHECK(lines[0].fields == fields_t{{"pct", "i:93"}});
  CHECK(lines[0].context == fields_t{{"req", "s:r-1"}});
}

TEST_CASE("the context follows a job across three pool hops and a limiter, hop records included") {
  auto sink = start_with();
  gidlog::set_runtime_log_level(gidlog::level::trace);
  std::uint32_t hop_gids[4] = {};
  {
    gidlog::worker_pool a("hop-a", 1), b("hop-b", 1), c("hop-c", 1);
    gidlog::limiter lim("hop-lim", 1);
    gidlog::context_scope s{{"req", "r-42"}};
    a.submit([&] {
       hop_gids[0] = gidlog::gid();
       LOG_INFO("hop 1");
       b.submit([&] {
          hop_gids[1] = gidlog::gid();
          LOG_INFO("hop 2");
          c.submit([&] {
             hop_gids[2] = gidlog::gid();
             LOG_INFO("hop 3");
             lim.go([&] {
               hop_gids[3] = gidlog::gid();
               LOG_INFO("in the limiter");
             });
             lim.wait();
           }).get();
        }).get();
     }).get();
  }
  {
    gidlog::worker_pool d("no-ctx", 1);
    d.submit([] { LOG_INFO("a job without context"); }).get();
  }
  gidlog::set_runtime_log_level(gidlog::level::info);
  gidlog::stop();
  auto lines = sink->lines();
  std::map<std::string, const seen_line*> by_msg;
  int hop_records_with_ctx = 0, hop_records = 0;
  for (const seen_line& l : lines) {
    by_msg[l.message] = &l;
    const bool hop = l.message.find(": job ") != std::string::npos &&
                     (l.message.find(" started on gid-") != std::string::npos ||
                      l.message.find(" finished on gid-") != std::string::npos ||
                      l.message.find(" submitted by gid-") != std::string::npos);
    if (hop && l.message.find("\"no-ctx\"") == std::string::npos) {
      ++hop_records;
      if (l.ctx("req") == "s:r-42") ++hop_records_with_ctx;
    } else if (hop) {
      CHECK(l.context.empty());
    }
  }
  const char* msgs[] = {"hop 1", "hop 2", "hop 3", "in the limiter"};
  for (int i = 0; i < 4; ++i) {
    INFO(msgs[i]);
    REQUIRE(by_msg.count(msgs[i]) == 1);
    CHECK(by_msg[msgs[i]]->ctx("req") == "s:r-42");
    CHECK(by_msg[msgs[i]]->gid == hop_gids[i]);
  }
  CHECK(hop_gids[0] != hop_gids[1]);
  CHECK(hop_gids[1] != hop_gids[2]);
  REQUIRE(by_msg.count("a job without context") == 1);
  CHECK(by_msg["a job without context"]->context.empty());
  // submitted, started and finished for each of the 3 pool jobs; started and finished for the
  // limiter's (a limiter logs no "submitted")
  CHECK(hop_records == 11);
  CHECK(hop_records_with_ctx == hop_records);
}

TEST_CASE("bad input: odd context keys, a 1 MiB field, invalid UTF-8: written, never lost") {
  auto sink = start_with("%v%C");
  const std::string big(1 << 20, 'x');
  const std::string bad_utf8 = "caf\xc3 \xff end";
  {
    gidlog::context_scope s{{"user id", "a"}, {"", "empty key"}, {"k\xff", bad_utf8}};
    LOG_INFO("big {payload} and {odd}", big, bad_utf8);
  }
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].message == "big " + big + " and " + bad_utf8);
  CHECK(lines[0].fields == fields_t{{"payload", "s:" + big}, {"odd", "s:" + bad_utf8}});
  // Structured sinks get the keys as given; the text makes them readable by a logfmt parser.
  CHECK(lines[0].context == fields_t{{"user id", "s:a"}, {"", "s:empty key"}, {"k\xff", "s:" + bad_utf8}});
  CHECK(lines[0].text == lines[0].message + " user_id=a _=\"empty key\" k_=\"" + bad_utf8 + "\"\n");
}

TEST_CASE("a text sink that does not ask for fields gets none (the backend skips them), context still") {
  auto sink = std::make_shared<field_sink>();
  sink->wants_fields_ = false;
  gidlog::options opt;
  opt.sinks = {sink};
  opt.pattern = "%v";
  gidlog::start(opt);
  {
    gidlog::context_scope s{{"req", "r-1"}};
    LOG_INFO("n={n}", 1);
  }
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].message == "n=1");
  CHECK(lines[0].fields.empty());
  CHECK(lines[0].context == fields_t{{"req", "s:r-1"}});
}
