#pragma once
// Bench helpers: cycle-counter reads fenced for timing one call, the counter's rate, and
// counting the lines a logger wrote.
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

#include <gidlog/arch/cpu.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace bench {

// Start stamp: earlier instructions retire before the read.
inline std::uint64_t start_stamp() noexcept {
#if defined(__x86_64__)
  _mm_lfence();
  std::uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
#else
  return gidlog::arch::cycles();
#endif
}

// End stamp: the timed call retires before the read; later ones wait for it.
inline std::uint64_t end_stamp() noexcept {
#if defined(__x86_64__)
  unsigned aux;
  std::uint64_t t = __rdtscp(&aux);
  _mm_lfence();
  return t;
#else
  return gidlog::arch::cycles();
#endif
}

// Cycle-counter ticks per nanosecond, measured against steady_clock over `ms` milliseconds.
inline double ticks_per_ns(int ms = 200) {
  auto c0 = std::chrono::steady_clock::now();
  std::uint64_t t0 = gidlog::arch::cycles();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  auto c1 = std::chrono::steady_clock::now();
  std::uint64_t t1 = gidlog::arch::cycles();
  return static_cast<double>(t1 - t0) / static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(c1 - c0).count());
}

// Spins until the counter passes `until`.
inline void spin_until(std::uint64_t until) noexcept {
  while (gidlog::arch::cycles() < until) {
#if defined(__x86_64__)
    _mm_pause();
#endif
  }
}

// Lines in the file at `path` (0 when it cannot be read).
inline std::size_t count_lines(const std::string& path) {
  std::ifstream in(path);
  std::size_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

}  // namespace bench
