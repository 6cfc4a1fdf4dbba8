// LOG_*_IF, EVERY_N, FIRST_N and EVERY: exact counts from 8 threads, arguments evaluated only when
// a record is made, the suppressed count in the message and as a field, and the time limit driven
// by a fake clock (no sleeps).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gidlog/gidlog.h>

#include "log_capture.h"

namespace {

constexpr int threads = 8;
constexpr int calls_per_thread = 1000;

struct session : gidlog_test::pattern_session {
  session() : pattern_session("%v") {}
};

template <class F>
void on_threads(F&& f) {
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) ts.emplace_back([&f, t] {
    for (int i = 0; i < calls_per_thread; ++i) f(t, i);
  });
  for (auto& t : ts) t.join();
}

std::atomic<std::int64_t> fake_now{1'000'000'000};
std::int64_t fake_clock() noexcept { return fake_now.load(std::memory_order_relaxed); }

int evaluated(std::atomic<int>& n, int v) {
  n.fetch_add(1, std::memory_order_relaxed);
  return v;
}

}  // namespace

TEST_CASE("LOG_IF: the condition after the level, the arguments only when logged", "[macros]") {
  session s;
  std::atomic<int> args{0}, conds{0};
  auto cond = [&conds](bool v) {
    conds.fetch_add(1, std::memory_order_relaxed);
    return v;
  };
  LOG_INFO_IF(cond(true), "yes {}", evaluated(args, 1));
  LOG_INFO_IF(cond(false), "no {}", evaluated(args, 2));
  LOG_DEBUG_IF(cond(true), "below the level {}", evaluated(args, 3));  // neither evaluated
  gidlog::logger& lg = gidlog::get_logger("rl.if");
  LOGGER_WARN_IF(lg, cond(true), "named {}", evaluated(args, 4));
  if (conds.load() > 100) LOG_ERROR_IF(true, "never");  // one statement after an unbraced if
  else GIDLOG_ERROR_IF(true, "else branch");
  CHECK(s.lines() == std::vector<std::string>{"yes 1", "named 4", "else branch"});
  CHECK(args.load() == 2);
  CHECK(conds.load() == 3);
}

TEST_CASE("LOG_EVERY_N: exactly every n-th call of 8 threads, each saying how many it skipped", "[macros]") {
  session s;
  std::atomic<int> args{0};
  on_threads([&](int, int) { LOG_INFO_EVERY_N(7, "every 7th {}", evaluated(args, 0)); });
  auto lines = s.lines();
  const int total = threads * calls_per_thread;
  const int expected = (total + 6) / 7;  // calls 0, 7, 14, ...
  REQUIRE(static_cast<int>(lines.size()) == expected);
  CHECK(args.load() == expected);
  // Call 0 skipped nothing (no suffix), every later one 6. Lines are in time order, and a thread
  // may stamp its record after another thread's later call: count, do not index.
  std::size_t plain = 0, suffixed = 0;
  for (const std::string& l : lines) {
    plain += l == "every 7th 0";
    suffixed += l == "every 7th 0 (suppressed 6)";
  }
  CHECK(plain == 1);
  CHECK(suffixed == lines.size() - 1);
}

TEST_CASE("LOG_FIRST_N: exactly the first n calls of 8 threads", "[macros]") {
  session s;
  std::atomic<int> args{0};
  gidlog::logger& lg = gidlog::get_logger("rl.first");
  on_threads([&](int, int) { LOGGER_WARN_FIRST_N(lg, 25, "first {}", evaluated(args, 1)); });
  auto lines = s.lines();
  CHECK(lines.size() == 25);
  CHECK(args.load() == 25);
}

TEST_CASE("LOG_EVERY: once per period by the rate-limit clock, with the calls skipped", "[macros]") {
  gidlog::set_rate_limit_clock(&fake_clock);
  session s;
  std::atomic<int> args{0};
  auto call = [&] { LOG_ERROR_EVERY(std::chrono::milliseconds(100), "tick {}", evaluated(args, 9)); };
  // The clock stands still: of 8000 calls from 8 threads, exactly one is written.
  on_threads([&](int, int) { call(); });
  CHECK(s.lines() == std::vector<std::string>{"tick 9"});
  fake_now.fetch_add(99'999'999);  // 1 ns short of the period
  call();
  CHECK(s.lines().size() == 1);
  fake_now.fetch_add(1);
  call();
  // Every call since the written one was skipped: 7999 from the threads and the one above.
  CHECK(s.lines() == std::vector<std::string>{"tick 9", "tick 9 (suppressed 8000)"});
  fake_now.fetch_add(100'000'000);
  call();
  CHECK(s.lines().back() == "tick 9");
  CHECK(args.load() == 3);
  gidlog::set_rate_limit_clock(nullptr);
}

TEST_CASE("rate-limited forms at every level, root and named", "[macros]") {
  session s;
  gidlog::set_level(gidlog::level::trace);
  gidlog::logger& lg = gidlog::get_logger("rl.levels");
  for (int i = 0; i < 2; ++i) {
    LOG_TRACE_EVERY_N(2, "t{}", i);
    LOG_DEBUG_FIRST_N(1, "d{}", i);
    LOG_INFO_EVERY(std::chrono::hours(1), "i{}", i);
    LOG_WARN_IF(i == 1, "w{}", i);
    LOGGER_ERROR_EVERY_N(lg, 2, "e{}", i);
    LOGGER_TRACE_FIRST_N(lg, 1, "lt{}", i);
    LOGGER_DEBUG_EVERY(lg, std::chrono::hours(1), "ld{}", i);
    LOGGER_INFO_IF(lg, i == 0, "li{}", i);
  }
  gidlog::set_level(gidlog::level::info);
  CHECK(s.lines() == std::vector<std::string>{"t0", "d0", "i0", "e0", "lt0", "ld0", "li0", "w1"});
}
