// worker_pool against a plain mutex + condition variable pool written here as the baseline, in
// one run so the ratio survives a noisy machine; and the task registry's cost per job.
//
//   cmake --preset release && cmake --build --preset release --target bm_pool
//   build/release/bench/bm_pool --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// Rows:
//   post/<pool>/workers:N     jobs/s (items_per_second) for empty jobs posted from one thread in
//                             batches of 1000, each batch waited for: submit, queue, run, done
//   latency/<pool>/workers:N  submit-to-start time of one job into an idle pool (the worker is
//                             asleep): p50/p99 counters in microseconds, mean as the time
//   post/gidlog_noreg         the post row with task registration switched off
//   submit/gidlog             submit() with a task handle per job, then get() on each
//   compare/workers:N         the three post variants interleaved batch by batch (10 000 jobs a
//                             batch, order rotated), so machine noise hits them alike: each
//                             one's jobs/s over all its batches as counters, and registry_pct =
//                             the per-job cost registration adds
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include <gidlog/gidlog.h>
#include <gidlog/runtime.h>

namespace {

constexpr int batch = 1000;

// The baseline: one std::deque of std::function under one mutex, one condition variable.
class mutex_pool {
 public:
  explicit mutex_pool(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this] { work(); });
  }
  ~mutex_pool() {
    {
      std::lock_guard g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  template <class F>
  void post(F&& f) {
    {
      std::lock_guard g(mu_);
      q_.emplace_back(std::forward<F>(f));
    }
    cv_.notify_one();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> f;
      {
        std::unique_lock lk(mu_);
        cv_.wait(lk, [this] { return stop_ || !q_.empty(); });
        if (q_.empty()) return;
        f = std::move(q_.front());
        q_.pop_front();
      }
      f();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

std::unique_ptr<gidlog::worker_pool> make_gidlog(std::size_t n) {
  return std::make_unique<gidlog::worker_pool>(gidlog::pool_options{.name = "bench", .threads = n});
}

template <class Pool>
void run_batches(benchmark::State& state, Pool& pool) {
  for (auto _ : state) {
    std::latch done(batch);
    for (int i = 0; i < batch; ++i) pool.post([&done] { done.count_down(); });
    done.wait();
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

void post_gidlog(benchmark::State& state) {
  auto pool = make_gidlog(static_cast<std::size_t>(state.range(0)));
  run_batches(state, *pool);
}

void post_gidlog_noreg(benchmark::State& state) {
  gidlog::tasks::set_registration(false);
  {
    auto pool = make_gidlog(static_cast<std::size_t>(state.range(0)));
    run_batches(state, *pool);
  }
  gidlog::tasks::set_registration(true);
}

void post_mutex(benchmark::State& state) {
  mutex_pool pool(static_cast<std::size_t>(state.range(0)));
  run_batches(state, pool);
}

void submit_gidlog(benchmark::State& state) {
  auto pool = make_gidlog(static_cast<std::size_t>(state.range(0)));
  std::vector<gidlog::task<int>> handles;
  handles.reserve(batch);
  for (auto _ : state) {
    for (int i = 0; i < batch; ++i) handles.push_back(pool->submit([] { return 1; }));
    int sum = 0;
    for (auto& h : handles) sum += h.get();
    benchmark::DoNotOptimize(sum);
    handles.clear();
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

// One job at a time into an idle pool; the clock is read in the submitter before post and in
// the job when it starts.
template <class Pool>
void run_latency(benchmark::State& state, Pool& pool) {
  using clock = std::chrono::steady_clock;
  std::vector<double> us;
  for (auto _ : state) {
    std::atomic<std::int64_t> started{0};
    const auto t0 = clock::now();
    pool.post([&started] {
      started.store(clock::now().time_since_epoch().count(), std::memory_order_release);
      started.notify_one();
    });
    started.wait(0, std::memory_order_acquire);
    const auto d = clock::duration(started.load(std::memory_order_acquire)) - t0.time_since_epoch();
    const double secs = std::chrono::duration<double>(d).count();
    state.SetIterationTime(secs);
    us.push_back(secs * 1e6);
    // Let the worker go back to sleep so every sample measures a wake-up.
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (!us.empty()) {
    std::sort(us.begin(), us.end());
    state.counters["p50_us"] = us[us.size() / 2];
    state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  }
}

constexpr int compare_batch = 10000;

// One batch of empty jobs; returns the seconds it took.
template <class Pool>
double timed_batch(Pool& pool) {
  const auto t0 = std::chrono::steady_clock::now();
  std::latch done(compare_batch);
  for (int i = 0; i < compare_batch; ++i) pool.post([&done] { done.count_down(); });
  done.wait();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void compare(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto g = make_gidlog(n);
  mutex_pool m(n);
  double reg = 0, noreg = 0, mtx = 0;  // seconds, summed over batches
  int round = 0;
  for (auto _ : state) {
    for (int k = 0; k < 3; ++k) {
      switch ((round + k) % 3) {
        case 0: reg += timed_batch(*g); break;
        case 1:
          gidlog::tasks::set_registration(false);
          noreg += timed_batch(*g);
          gidlog::tasks::set_registration(true);
          break;
        default: mtx += timed_batch(m); break;
      }
    }
    ++round;
  }
  const auto jobs = static_cast<double>(state.iterations()) * compare_batch;
  state.counters["gidlog_Mjobs_s"] = jobs / reg / 1e6;
  state.counters["noreg_Mjobs_s"] = jobs / noreg / 1e6;
  state.counters["mutex_Mjobs_s"] = jobs / mtx / 1e6;
  state.counters["registry_pct"] = (reg - noreg) / noreg * 100.0;
  state.SetItemsProcessed(state.iterations() * 3 * compare_batch);
}

void latency_gidlog(benchmark::State& state) {
  auto pool = make_gidlog(static_cast<std::size_t>(state.range(0)));
  run_latency(state, *pool);
}

void latency_mutex(benchmark::State& state) {
  mutex_pool pool(static_cast<std::size_t>(state.range(0)));
  run_latency(state, pool);
}

void workers(benchmark::internal::Benchmark* b) { b->ArgName("workers")->Arg(1)->Arg(2)->Arg(4); }

BENCHMARK(post_gidlog)->Name("post/gidlog")->Apply(workers)->UseRealTime();
BENCHMARK(post_mutex)->Name("post/mutex_condvar")->Apply(workers)->UseRealTime();
BENCHMARK(post_gidlog_noreg)->Name("post/gidlog_noreg")->Apply(workers)->UseRealTime();
BENCHMARK(submit_gidlog)->Name("submit/gidlog")->ArgName("workers")->Arg(2)->UseRealTime();
BENCHMARK(compare)->Name("compare")->Apply(workers)->UseRealTime();
BENCHMARK(latency_gidlog)->Name("latency/gidlog")->Apply(workers)->UseManualTime()->Iterations(300);
BENCHMARK(latency_mutex)->Name("latency/mutex_condvar")->Apply(workers)->UseManualTime()->Iterations(300);

}  // namespace

int main(int argc, char** argv) {
  gidlog::set_runtime_log_level(gidlog::level::warn);  // no INFO lines about the bench pools
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
