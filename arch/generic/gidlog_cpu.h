#pragma once
// Any other CPU: no usable cycle counter, so "cycles" are CLOCK_MONOTONIC nanoseconds.
#include <cstdint>
#include <ctime>

namespace gidlog::arch {

inline constexpr const char* name = "generic";
inline constexpr bool has_cycle_counter = false;

inline std::uint64_t cycles() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

inline void* thread_pointer() noexcept { return __builtin_thread_pointer(); }

}  // namespace gidlog::arch
