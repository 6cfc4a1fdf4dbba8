#pragma once
// x86_64: the thread pointer is %fs:0 and the cycle counter is the invariant TSC.
#include <cstdint>
#include <x86intrin.h>

namespace gidlog::arch {

inline constexpr const char* name = "x86_64";
inline constexpr bool has_cycle_counter = true;

// The TSC: constant rate and synchronised across cores on every x86_64 CPU with
// constant_tsc/nonstop_tsc (all since ~2008 and KVM guests). Not serialising on purpose: the
// hot path wants ~7 ns, not a fenced read.
inline std::uint64_t cycles() noexcept { return __rdtsc(); }

// The thread pointer: glibc and musl store the TCB's own address at %fs:0.
inline void* thread_pointer() noexcept {
  void* tp;
  __asm__("mov %%fs:0, %0" : "=r"(tp));
  return tp;
}

}  // namespace gidlog::arch
