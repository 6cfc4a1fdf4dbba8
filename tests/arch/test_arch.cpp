// arch/<cpu>/gidlog/arch/cpu.h: the thread pointer and the cycle counter.
#include <pthread.h>
#include <time.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <gidlog/arch/cpu.h>

namespace arch = gidlog::arch;

TEST_CASE("the arch header matches the target CPU", "[arch]") {
#if defined(__x86_64__)
  CHECK(std::strcmp(arch::name, "x86_64") == 0);
  CHECK(arch::has_cycle_counter);
#elif defined(__aarch64__)
  CHECK(std::strcmp(arch::name, "aarch64") == 0);
  CHECK(arch::has_cycle_counter);
#else
  CHECK(std::strcmp(arch::name, "generic") == 0);
#endif
}

TEST_CASE("the thread pointer is per thread and a fixed distance from pthread_self()", "[arch]") {
  const auto distance = [] {
    return static_cast<const char*>(arch::thread_pointer()) - reinterpret_cast<const char*>(::pthread_self());
  };
  constexpr int n = 8;
  std::vector<const void*> tps(n);
  std::vector<std::ptrdiff_t> distances(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      tps[static_cast<std::size_t>(i)] = arch::thread_pointer();
      distances[static_cast<std::size_t>(i)] = distance();
    });
  for (auto& t : threads) t.join();
  tps.push_back(arch::thread_pointer());
  CHECK(std::set<const void*>(tps.begin(), tps.end()).size() == tps.size());
  CHECK(arch::thread_pointer() != nullptr);
  for (std::ptrdiff_t d : distances) CHECK(d == distance());
#if defined(__x86_64__)
  CHECK(distance() == 0);  // glibc and musl: %fs points at the descriptor (its `self` word)
#endif
}

TEST_CASE("load_u32_at_thread_pointer() reads the word at the thread pointer plus the offset", "[arch]") {
  const auto expected = [](std::ptrdiff_t off) {
    std::uint32_t v;
    std::memcpy(&v, static_cast<const char*>(arch::thread_pointer()) + off, sizeof v);
    return v;
  };
  // Words of the thread control block, which every C library maps at the thread pointer.
  for (std::ptrdiff_t off : {0, 4, 8}) CHECK(arch::load_u32_at_thread_pointer(off) == expected(off));
  std::uint32_t in_thread = 0, expected_in_thread = 1;
  std::thread([&] {
    in_thread = arch::load_u32_at_thread_pointer(0);
    expected_in_thread = expected(0);
  }).join();
  CHECK(in_thread == expected_in_thread);
}

TEST_CASE("cycles() never goes back and advances with time", "[arch]") {
  std::uint64_t prev = arch::cycles();
  bool monotonic = true;
  for (int i = 0; i < 100000; ++i) {
    const std::uint64_t now = arch::cycles();
    if (now < prev) monotonic = false;
    prev = now;
  }
  CHECK(monotonic);

  // About 2 ms of wall time must move the counter (x86 TSC: GHz; aarch64 generic timer: MHz).
  timespec start{}, now{};
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  const std::uint64_t c0 = arch::cycles();
  do {
    ::clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < 2000000L);
  const std::uint64_t c1 = arch::cycles();
  CHECK(c1 > c0 + 1000);

  // Ordered across threads: a read after join() is not before a read in the joined thread.
  std::uint64_t in_thread = 0;
  std::thread([&] { in_thread = arch::cycles(); }).join();
  CHECK(arch::cycles() >= in_thread);
}
