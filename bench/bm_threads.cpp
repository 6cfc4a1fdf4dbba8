// gidlog::threads: the cost of a thread profile of a process with 200 extra threads, each blocked
// in a condition variable wait (the shape of a service with big pools), so every one is sent a
// stack request, answers it from its signal handler and is symbolized.
//
//   cmake --preset release && cmake --build --preset release --target bm_threads
//   build/release/bench/bm_threads --benchmark_min_time=0.05 --benchmark_repetitions=10
//       (add --benchmark_report_aggregates_only=true for median and spread alone)
//
// Rows (real time, milliseconds, per call; goal < 100 ms for 200 threads):
//   profile/debug:1   threads::profile(1): /proc reads, 200 stack requests, grouping
//   profile/debug:2   threads::profile(2): the same, every thread written out
//   list              threads::list(): the data both profiles are made from
//   count             threads::count(): /proc/self/task only, no signal
// The first profile of a process also loads the debug information of every module (tens of
// milliseconds, once): the fixture takes one before timing.
#include <condition_variable>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include <gidlog/gidlog.h>

namespace {

constexpr int extra_threads = 200;

// 200 threads waiting on one condition variable until the process exits.
class parked_threads {
 public:
  parked_threads() {
    std::latch started(extra_threads);
    for (int i = 0; i < extra_threads; ++i) {
      threads_.emplace_back([this, &started] {
        std::unique_lock<std::mutex> lock(mu_);
        started.count_down();
        cv_.wait(lock, [this] { return done_; });
      });
    }
    started.wait();
    benchmark::DoNotOptimize(gidlog::threads::profile(1));  // loads debug information once
  }
  ~parked_threads() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::vector<std::thread> threads_;
};

void ensure_parked() { static parked_threads parked; }

void bm_profile(benchmark::State& state) {
  ensure_parked();
  const int debug = static_cast<int>(state.range(0));
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string p = gidlog::threads::profile(debug);
    bytes = p.size();
    benchmark::DoNotOptimize(p);
  }
  state.counters["threads"] = static_cast<double>(gidlog::threads::count());
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(bm_profile)->Name("profile")->ArgName("debug")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void bm_list(benchmark::State& state) {
  ensure_parked();
  std::size_t answered = 0;
  for (auto _ : state) {
    const auto all = gidlog::threads::list();
    answered = 0;
    for (const auto& t : all) answered += t.no_stack.empty() ? 1 : 0;
    benchmark::DoNotOptimize(all.data());
  }
  state.counters["answered"] = static_cast<double>(answered);
}
BENCHMARK(bm_list)->Name("list")->Unit(benchmark::kMillisecond)->UseRealTime();

void bm_count(benchmark::State& state) {
  ensure_parked();
  for (auto _ : state) benchmark::DoNotOptimize(gidlog::threads::count());
}
BENCHMARK(bm_count)->Name("count")->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
