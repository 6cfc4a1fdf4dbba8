// The rate-limit gate behind LOG_*_EVERY, driven directly from several threads and at its edges:
// the suppressed count a written call carries is exact, whatever the scheduler does between the
// threads' steps.
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <gidlog/gidlog.h>

namespace {

std::atomic<std::int64_t> gate_now{0};
std::int64_t gate_clock() noexcept { return gate_now.load(std::memory_order_relaxed); }

struct clock_override {
  clock_override() { gidlog::set_rate_limit_clock(&gate_clock); }
  ~clock_override() { gidlog::set_rate_limit_clock(nullptr); }
};

}  // namespace

TEST_CASE("every_state: a written call carries exactly the calls skipped before it, round after round", "[gate]") {
  // Each round the clock stands still at the start of a new period and 3 threads call the gate
  // together: exactly one call is written, and it carries every call of the round before (all of
  // which were skipped), none of its own round's. With the count read after the winning
  // compare-exchange, a winner descheduled between the two steps took in its own round's calls.
  clock_override clock;
  constexpr int threads = 3;
  constexpr int calls = 400;
  constexpr int rounds = 1500;
  constexpr auto period = std::chrono::milliseconds(10);
  gidlog::detail::every_state gate;
  std::atomic<int> written{0};
  std::atomic<std::uint64_t> carried{0};
  std::barrier sync(threads + 1);
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) ts.emplace_back([&] {
    for (int r = 0; r < rounds; ++r) {
      sync.arrive_and_wait();  // the clock is set
      for (int i = 0; i < calls; ++i) {
        std::uint64_t suppressed = ~std::uint64_t{0};
        if (gate.admit(period, suppressed)) {
          written.fetch_add(1, std::memory_order_relaxed);
          carried.store(suppressed, std::memory_order_relaxed);
        }
      }
      sync.arrive_and_wait();  // the round is done
    }
  });
  int bad_rounds = 0;
  int first_bad = -1;
  std::uint64_t first_bad_carried = 0;
  int first_bad_written = 0;
  for (int r = 0; r < rounds; ++r) {
    gate_now.store(1'000'000'000 + r * std::int64_t{10'000'000}, std::memory_order_relaxed);
    written.store(0);
    sync.arrive_and_wait();
    sync.arrive_and_wait();
    const std::uint64_t expected = r == 0 ? 0 : threads * calls - 1;
    if (written.load() != 1 || carried.load() != expected) {
      if (bad_rounds++ == 0) {
        first_bad = r;
        first_bad_carried = carried.load();
        first_bad_written = written.load();
      }
    }
  }
  for (auto& t : ts) t.join();
  INFO("first bad round " << first_bad << ": " << first_bad_written << " written, carrying " << first_bad_carried);
  CHECK(bad_rounds == 0);
}

TEST_CASE("every_state: a clock at zero, a zero period and a period past the clock's range", "[gate]") {
  clock_override clock;
  gate_now.store(0);
  std::uint64_t s = 99;
  gidlog::detail::every_state zero;
  CHECK(zero.admit(std::chrono::seconds(1), s));  // the first call is written even at time 0
  CHECK(s == 0);
  CHECK_FALSE(zero.admit(std::chrono::seconds(1), s));
  gidlog::detail::every_state always;
  for (int i = 0; i < 3; ++i) {
    CHECK(always.admit(std::chrono::nanoseconds(0), s));  // a zero period writes every call
    CHECK(s == 0);
  }
  gidlog::detail::every_state once;
  gate_now.store(5);
  CHECK(once.admit(std::chrono::nanoseconds(INT64_MAX), s));
  gate_now.store(INT64_MAX - 1);
  CHECK_FALSE(once.admit(std::chrono::nanoseconds(INT64_MAX), s));  // the period's end saturates
}
