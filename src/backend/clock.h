#pragma once
// Backend thread: converts cycle-counter timestamps to wall-clock nanoseconds.
#include <cstdint>

namespace gidlog {
inline namespace v0 {
namespace detail {

// Two separate questions, answered from two clocks:
//  - how fast the counter ticks: fitted against CLOCK_MONOTONIC_RAW, which NTP neither steps nor
//    slews, over the longest window available (since the first sample);
//  - what wall time a tick is: the newest (CLOCK_REALTIME - CLOCK_MONOTONIC_RAW) offset, sampled
//    at every recalibration (once a second).
// So a clock step (NTP, settimeofday) moves the printed time from the next recalibration on, and
// changes neither the rate nor the order of records, which comes from the counter alone.
//   wall_ns = anchor_raw_ns + (ticks - anchor_ticks) * ns_per_tick + wall_offset_ns
class tsc_clock {
 public:
  // Where readings come from: the real clocks, or a test's.
  struct source {
    std::uint64_t (*ticks)() noexcept;
    std::int64_t (*raw_ns)() noexcept;   // CLOCK_MONOTONIC_RAW
    std::int64_t (*wall_ns)() noexcept;  // CLOCK_REALTIME
  };
  static const source system;

  explicit tsc_clock(const source& src = system) noexcept;  // takes the first sample
  std::int64_t to_ns(std::uint64_t ticks) const noexcept {
    auto d = static_cast<std::int64_t>(ticks - anchor_ticks_);
    return anchor_raw_ns_ + static_cast<std::int64_t>(static_cast<double>(d) * ns_per_tick_) + wall_offset_ns_;
  }
  // Ensures the rate was measured over at least `min_window_ns`, sleeping if needed (start-up).
  void settle(std::int64_t min_window_ns) noexcept;
  // Without waiting: until the rate has been measured over `min_window_ns`, measures it again
  // over the window so far (each call; cheap afterwards). Readings near the moment of the call,
  // which is when the backend converts them, stay accurate to about a microsecond.
  void warm_up(std::int64_t min_window_ns) noexcept {
    if (warm_) return;
    recalibrate();
    warm_ = anchor_raw_ns_ - first_raw_ns_ >= min_window_ns;
    if (warm_) next_check_ticks_ = anchor_ticks_;
  }
  // Recalibrates when `interval_ns` passed since the last time. Cheap otherwise.
  void maybe_recalibrate(std::uint64_t now_ticks, std::int64_t interval_ns = 1'000'000'000) noexcept;
  void recalibrate() noexcept;
  double ns_per_tick() const noexcept { return ns_per_tick_; }

  static std::int64_t realtime_ns() noexcept;

 private:
  void sample(std::uint64_t& ticks, std::int64_t& raw, std::int64_t& wall) const noexcept;
  const source* src_;
  std::uint64_t first_ticks_;
  std::int64_t first_raw_ns_;
  std::uint64_t anchor_ticks_;
  std::int64_t anchor_raw_ns_;
  std::int64_t wall_offset_ns_;
  double ns_per_tick_ = 1.0;
  std::uint64_t next_check_ticks_ = 0;
  bool warm_ = false;
};

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
