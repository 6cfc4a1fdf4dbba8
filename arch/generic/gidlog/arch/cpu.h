#pragma once
// Any other CPU: no usable cycle counter, so "cycles" are CLOCK_MONOTONIC nanoseconds.
#include <cstddef>
#include <cstdint>
#include <cstring>
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

// The 32-bit word at thread pointer + offset: gid()'s TID read. A plain load after the
// thread-pointer read, so the compiler reloads it after any call (it changes in a fork() child).
inline std::uint32_t load_u32_at_thread_pointer(std::ptrdiff_t offset) noexcept {
  std::uint32_t v;
  std::memcpy(&v, static_cast<const char*>(thread_pointer()) + offset, sizeof v);
  return v;
}

}  // namespace gidlog::arch
