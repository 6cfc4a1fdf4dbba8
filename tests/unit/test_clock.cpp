// The backend's tick -> wall-time mapping: the rate comes from CLOCK_MONOTONIC_RAW, the wall offset
// from CLOCK_REALTIME, so a wall-clock step moves printed times and nothing else.
#include <catch2/catch.hpp>

#include <cstdint>

#include "backend/clock.h"

using gidlog::detail::tsc_clock;

namespace {

// A fake machine: the counter ticks at 2.5 per ns, the raw clock follows it exactly, the wall
// clock is the raw clock plus an offset the test steps like NTP or settimeofday would.
struct fake {
  static inline std::uint64_t ticks = 1'000'000;
  static inline std::int64_t wall_offset = 1'700'000'000'000'000'000;
  static std::uint64_t read_ticks() noexcept { return ticks; }
  static std::int64_t raw() noexcept { return static_cast<std::int64_t>(ticks * 2 / 5); }
  static std::int64_t wall() noexcept { return raw() + wall_offset; }
};
const tsc_clock::source fake_source{fake::read_ticks, fake::raw, fake::wall};

}  // namespace

TEST_CASE("the tick rate comes from the raw clock and a wall-clock step changes only the printed time", "[clock]") {
  fake::ticks = 1'000'000;
  fake::wall_offset = 1'700'000'000'000'000'000;
  tsc_clock clock(fake_source);
  fake::ticks += 50'000'000;  // 20 ms of ticks
  clock.recalibrate();
  CHECK(clock.ns_per_tick() == Approx(0.4).epsilon(1e-9));

  const std::uint64_t a = fake::ticks + 1000, b = fake::ticks + 2000;
  const std::int64_t before_a = clock.to_ns(a), before_b = clock.to_ns(b);
  CHECK(before_b - before_a == 400);
  CHECK(before_a == fake::raw() + 400 + fake::wall_offset);

  // The wall clock jumps back an hour; the counter and the raw clock do not care.
  fake::wall_offset -= 3'600'000'000'000;
  fake::ticks += 25'000'000;
  clock.recalibrate();
  CHECK(clock.ns_per_tick() == Approx(0.4).epsilon(1e-9));  // the rate did not move
  const std::uint64_t c = fake::ticks + 1000, d = fake::ticks + 2000;
  CHECK(clock.to_ns(d) - clock.to_ns(c) == 400);             // nor the spacing of records
  CHECK(clock.to_ns(c) == fake::raw() + 400 + fake::wall_offset);  // printed in the new wall time
  CHECK(clock.to_ns(c) < before_a);                          // an hour earlier than before the step
}

TEST_CASE("a wall clock stepped forward between calibrations does not distort the rate", "[clock]") {
  fake::ticks = 5'000'000;
  fake::wall_offset = 1'700'000'000'000'000'000;
  tsc_clock clock(fake_source);
  fake::ticks += 10'000'000;
  fake::wall_offset += 500'000'000;  // +0.5 s, while the fitted window is only 4 ms long
  clock.recalibrate();
  // Fitted against CLOCK_REALTIME the rate would have come out ~125x too fast.
  CHECK(clock.ns_per_tick() == Approx(0.4).epsilon(1e-9));
}
