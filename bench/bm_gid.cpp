// What it costs to learn the calling thread's TID, every way there is: the counterpart of the
// Go blog's goroutine-id benchmark, done right (the state loop runs the work once per
// iteration; nothing is divided by the iteration count by hand).
//
//   cmake --preset release && cmake --build --preset release --target bm_gid
//   build/release/bench/bm_gid --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Rows:
//   throughput  every call independent, one per iteration
//   x8          eight independent calls per iteration: each call's marginal cost (per_call)
//   chain       the previous result feeds the address of the next load (its latency)
//   serialised  lfence after every call: the latency of one whole isolated call (x86_64);
//               subtract the `serialised/lfence_only` row
//
// This file is also built, with GIDLOG_BM_GID_LIBRARY defined, as the shared library
// bm_gid_tlcache (bench/gid.cmake): the "thread_local cache inside a shared library" row.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#if defined(GIDLOG_BM_GID_LIBRARY)

// The cache as a shared library has it (spdlog's os::thread_id() in libspdlog.so): a function
// call through the PLT and global-dynamic TLS, i.e. __tls_get_addr.
extern "C" __attribute__((visibility("default"))) std::uint32_t bm_gid_library_cached_tid() noexcept {
  static thread_local std::uint32_t tid = 0;
  if (tid == 0) [[unlikely]]
    tid = static_cast<std::uint32_t>(::syscall(SYS_gettid));
  return tid;
}

#else  // the benchmark executable

#include <fcntl.h>
#include <pthread.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>

#include <gidlog/detail/gid_table.h>
#include <gidlog/gid.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

extern "C" std::uint32_t bm_gid_library_cached_tid() noexcept;

namespace {

namespace gd = gidlog::detail;

std::uint32_t syscall_gettid() noexcept { return static_cast<std::uint32_t>(::syscall(SYS_gettid)); }

// The cache as an application or a header-only library has it: local-exec TLS, a zero check.
thread_local std::uint32_t tl_cache = 0;
inline std::uint32_t tl_cached_tid() noexcept {
  if (tl_cache == 0) [[unlikely]]
    tl_cache = syscall_gettid();
  return tl_cache;
}

// spdlog's os::thread_id(): a function-local static thread_local with an initialiser, so every
// read also checks its guard variable.
inline std::uint32_t spdlog_style_tid() noexcept {
  static thread_local const std::uint32_t tid = syscall_gettid();
  return tid;
}

// /proc/thread-self/status: find the "Pid:" line (for a task it holds the TID, not the PID).
std::uint32_t proc_status_tid() noexcept {
  char buf[4096];
  int fd = ::open("/proc/thread-self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* p = std::strstr(buf, "\nPid:");
  if (p == nullptr) return 0;
  return static_cast<std::uint32_t>(std::strtoul(p + 5, nullptr, 10));
}

// /proc/thread-self/stat: the first field.
std::uint32_t proc_stat_tid() noexcept {
  char buf[512];
  int fd = ::open("/proc/thread-self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  return static_cast<std::uint32_t>(std::strtoul(buf, nullptr, 10));
}

// readlink("/proc/thread-self") = "PID/task/TID".
std::uint32_t readlink_tid() noexcept {
  char buf[64];
  ssize_t n = ::readlink("/proc/thread-self", buf, sizeof buf - 1);
  if (n <= 0) return 0;
  buf[n] = '\0';
  const char* slash = std::strrchr(buf, '/');
  return slash != nullptr ? static_cast<std::uint32_t>(std::strtoul(slash + 1, nullptr, 10)) : 0u;
}

#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 30)
std::uint32_t glibc_gettid() noexcept { return static_cast<std::uint32_t>(::gettid()); }
#endif

// Fails the row if `f` does not return this thread's TID (a benchmark of a wrong answer is
// worthless). Returns false when the row was failed.
template <typename F>
bool returns_tid(benchmark::State& state, F f) {
  const std::uint32_t got = static_cast<std::uint32_t>(f());
  if (got == syscall_gettid()) return true;
  state.SkipWithError(("returned " + std::to_string(got) + ", gettid() is " + std::to_string(syscall_gettid())).c_str());
  return false;
}

// ---------------------------------------------------------------------------------------------
// Throughput: independent calls.

template <auto F>
void throughput(benchmark::State& state) {
  if (!returns_tid(state, F)) return;
  for (auto _ : state) benchmark::DoNotOptimize(F());
}

void BM_gid(benchmark::State& state) {
  if (!returns_tid(state, gidlog::gid)) return;
  for (auto _ : state) benchmark::DoNotOptimize(gidlog::gid());
  state.SetLabel(gidlog::gid_method_name());
}

// gid() with GIDLOG_GID_METHOD forcing a fallback: the dispatch plus the slower method.
void BM_gid_forced(benchmark::State& state, const char* method) {
  std::optional<std::string> saved;
  if (const char* old = std::getenv("GIDLOG_GID_METHOD")) saved = old;
  ::setenv("GIDLOG_GID_METHOD", method, 1);
  gd::gid_reinit_for_test();
  if (returns_tid(state, gidlog::gid)) {
    for (auto _ : state) benchmark::DoNotOptimize(gidlog::gid());
  }
  state.SetLabel(gidlog::gid_method_name());
  if (saved) ::setenv("GIDLOG_GID_METHOD", saved->c_str(), 1);
  else ::unsetenv("GIDLOG_GID_METHOD");
  gd::gid_reinit_for_test();
}

// glibc declares pthread_self() __attribute__((const)), so a plain call in the loop would be
// made once, before it (std::this_thread::get_id() inlines to it too). Calling through a
// pointer the compiler cannot see through keeps one real call per iteration.
template <typename Fn>
Fn opaque(Fn fn) noexcept {
  __asm__("" : "+r"(fn));
  return fn;
}

void BM_pthread_self(benchmark::State& state) {
  auto fn = opaque(&::pthread_self);
  for (auto _ : state) benchmark::DoNotOptimize(fn());
}

std::thread::id this_thread_get_id() noexcept { return std::this_thread::get_id(); }

void BM_this_thread_get_id(benchmark::State& state) {
  auto fn = opaque(&this_thread_get_id);
  for (auto _ : state) benchmark::DoNotOptimize(fn());
}

void BM_gid_raw_fast_read(benchmark::State& state) {
  if (gidlog::gid_method() != gidlog::gid_source::fast) {
    state.SkipWithError("the fast method is not active");
    return;
  }
  if (!returns_tid(state, gd::gid_fast_read)) return;
  for (auto _ : state) benchmark::DoNotOptimize(gd::gid_fast_read());
}

// Eight calls per iteration: at one cycle or two a call, the loop's own compare-and-branch and
// the code layout decide half the time of a one-call loop (the same instruction sequence
// measured 1 or 2 cycles on Zen 4 depending on where the linker put it). Eight calls per
// iteration show each call's marginal cost; the per_call counter is time / (8 x iterations).
template <auto F>
void unrolled8(benchmark::State& state) {
  if (!returns_tid(state, F)) return;
  for (auto _ : state) {
    benchmark::DoNotOptimize(F());
    benchmark::DoNotOptimize(F());
    benchmark::DoNotOptimize(F());
    benchmark::DoNotOptimize(F());
    benchmark::DoNotOptimize(F());
    benchmark::DoNotOptimize(F());
    benchmark::DoNotOptimize(F());
    benchmark::DoNotOptimize(F());
  }
  state.counters["per_call"] = benchmark::Counter(static_cast<double>(state.iterations()) * 8,
                                                  benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// ---------------------------------------------------------------------------------------------
// Chain: the next load's address depends on the previous result, through a zero the compiler
// cannot see (`and $0` is not a dependency-breaking idiom, unlike `xor r, r`).

inline std::uintptr_t zero_from(std::uintptr_t v) noexcept {
#if defined(__x86_64__)
  __asm__("andq $0, %0" : "+r"(v));
#elif defined(__aarch64__)
  __asm__("and %0, %0, xzr" : "+r"(v));
#else
  __asm__("" : "+r"(v));
  v = v > 0xffffffffu ? v : 0;  // never true for a TID: a dependent zero
#endif
  return v;
}

void BM_chain_thread_local_cache(benchmark::State& state) {
  if (!returns_tid(state, tl_cached_tid)) return;
  std::uintptr_t dep = 0;
  for (auto _ : state) {
    const std::uint32_t* p = &tl_cache + dep;
    const std::uint32_t v = *p;
    dep = zero_from(v);
    benchmark::DoNotOptimize(v);
  }
}

void BM_chain_gid_raw_fast_read(benchmark::State& state) {
  if (gidlog::gid_method() != gidlog::gid_source::fast) {
    state.SkipWithError("the fast method is not active");
    return;
  }
  std::uintptr_t dep = 0;
  for (auto _ : state) {
    const std::ptrdiff_t off = gd::gid_fast.tp_offset.load(std::memory_order_relaxed);
    const std::uint32_t v = gidlog::arch::load_u32_at_thread_pointer(off + static_cast<std::ptrdiff_t>(dep));
    dep = zero_from(v);
    benchmark::DoNotOptimize(v);
  }
}

// ---------------------------------------------------------------------------------------------
// Serialised: lfence waits until every earlier instruction, loads included, has completed.

#if defined(__x86_64__)
template <auto F>
void serialised(benchmark::State& state) {
  if (!returns_tid(state, F)) return;
  for (auto _ : state) {
    benchmark::DoNotOptimize(F());
    _mm_lfence();
  }
}

void BM_serialised_lfence_only(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::ClobberMemory();
    _mm_lfence();
  }
}
#endif

}  // namespace

// Slowest first, the order of the README table.
BENCHMARK_TEMPLATE(throughput, proc_status_tid)->Name("throughput/proc_thread_self_status_parse");
BENCHMARK_TEMPLATE(throughput, proc_stat_tid)->Name("throughput/proc_thread_self_stat_parse");
BENCHMARK_TEMPLATE(throughput, readlink_tid)->Name("throughput/readlink_proc_thread_self");
BENCHMARK_TEMPLATE(throughput, syscall_gettid)->Name("throughput/syscall_SYS_gettid");
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 30)
BENCHMARK_TEMPLATE(throughput, glibc_gettid)->Name("throughput/glibc_gettid");
#endif
BENCHMARK_CAPTURE(BM_gid_forced, procfs, "procfs")->Name("throughput/gidlog_gid_forced_procfs");
BENCHMARK_CAPTURE(BM_gid_forced, syscall, "syscall")->Name("throughput/gidlog_gid_forced_syscall");
BENCHMARK(BM_pthread_self)->Name("throughput/pthread_self");
BENCHMARK(BM_this_thread_get_id)->Name("throughput/std_this_thread_get_id");
BENCHMARK_TEMPLATE(throughput, bm_gid_library_cached_tid)->Name("throughput/thread_local_cache_in_shared_library");
BENCHMARK_TEMPLATE(throughput, spdlog_style_tid)->Name("throughput/thread_local_cache_spdlog_style");
BENCHMARK_TEMPLATE(throughput, tl_cached_tid)->Name("throughput/thread_local_cache");
BENCHMARK(BM_gid_raw_fast_read)->Name("throughput/gidlog_raw_fast_read");
BENCHMARK(BM_gid)->Name("throughput/gidlog_gid")->Threads(1)->Threads(2);

BENCHMARK_TEMPLATE(unrolled8, spdlog_style_tid)->Name("x8/thread_local_cache_spdlog_style");
BENCHMARK_TEMPLATE(unrolled8, tl_cached_tid)->Name("x8/thread_local_cache");
BENCHMARK_TEMPLATE(unrolled8, gd::gid_fast_read)->Name("x8/gidlog_raw_fast_read");
BENCHMARK_TEMPLATE(unrolled8, gidlog::gid)->Name("x8/gidlog_gid");

BENCHMARK(BM_chain_thread_local_cache)->Name("chain/thread_local_cache");
BENCHMARK(BM_chain_gid_raw_fast_read)->Name("chain/gidlog_raw_fast_read");

#if defined(__x86_64__)
BENCHMARK(BM_serialised_lfence_only)->Name("serialised/lfence_only");
BENCHMARK_TEMPLATE(serialised, tl_cached_tid)->Name("serialised/thread_local_cache");
BENCHMARK_TEMPLATE(serialised, bm_gid_library_cached_tid)->Name("serialised/thread_local_cache_in_shared_library");
BENCHMARK_TEMPLATE(serialised, gd::gid_fast_read)->Name("serialised/gidlog_raw_fast_read");
BENCHMARK_TEMPLATE(serialised, gidlog::gid)->Name("serialised/gidlog_gid");
BENCHMARK_TEMPLATE(serialised, syscall_gettid)->Name("serialised/syscall_SYS_gettid");
#endif

BENCHMARK_MAIN();

#endif  // GIDLOG_BM_GID_LIBRARY
