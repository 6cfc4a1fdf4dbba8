#pragma once
// Backend thread: converts cycle-counter timestamps to wall-clock nanoseconds.
#include <cstdint>

namespace gidlog {
inline namespace v0 {
namespace detail {

// wall_ns = anchor_ns + (ticks - anchor_ticks) * ns_per_tick. The rate comes from the longest
// window available (since the first sample), the anchor from the newest sample, so NTP steps
// and rate error are corrected at every recalibration (once a second).
class tsc_clock {
 public:
  tsc_clock() noexcept;  // takes the first sample
  std::int64_t to_ns(std::uint64_t ticks) const noexcept {
    auto d = static_cast<std::int64_t>(ticks - anchor_ticks_);
    return anchor_ns_ + static_cast<std::int64_t>(static_cast<double>(d) * ns_per_tick_);
  }
  // Ensures the rate was measured over at least `min_window_ns`, sleeping if needed (start-up).
  void settle(std::int64_t min_window_ns) noexcept;
  // Recalibrates when `interval_ns` passed since the last time. Cheap otherwise.
  void maybe_recalibrate(std::uint64_t now_ticks, std::int64_t interval_ns = 1'000'000'000) noexcept;
  double ns_per_tick() const noexcept { return ns_per_tick_; }

  static std::int64_t realtime_ns() noexcept;

 private:
  void recalibrate() noexcept;
  std::uint64_t first_ticks_;
  std::int64_t first_ns_;
  std::uint64_t anchor_ticks_;
  std::int64_t anchor_ns_;
  double ns_per_tick_ = 1.0;
  std::uint64_t next_check_ticks_ = 0;
};

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
