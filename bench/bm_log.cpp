// Google Benchmark: the LOG_* call on the caller thread, and a call below the run-time level.
// Every 4096 calls the timer pauses while the backend drains (flush), so the numbers are the
// caller's cost with room in the queue, not the backend's throughput.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <string>

#include <gidlog/gidlog.h>

namespace {

struct session {
  std::string path = "/tmp/gidlog_bm_log_" + std::to_string(::getpid()) + ".log";
  session() {
    gidlog::options opt;
    opt.sinks = {gidlog::file_sink(path, {.truncate = true})};
    gidlog::start(opt);
  }
  ~session() {
    gidlog::stop();
    ::unlink(path.c_str());
  }
};

template <class F>
void timed_calls(benchmark::State& state, F&& call) {
  int i = 0;
  for (auto _ : state) {
    call(i);
    if ((++i & 4095) == 0) {
      state.PauseTiming();
      gidlog::flush();
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_log_int_double_str(benchmark::State& state) {
  const char* str = "a string";
  timed_calls(state, [&](int i) { LOG_INFO("Logging int: {}, double: {:.3f}, str: {}", i, i * 1.1, str); });
}
BENCHMARK(BM_log_int_double_str)->Threads(1)->Threads(2)->UseRealTime();

// The same call inside a context_scope (two fields): the record carries the snapshot pointer;
// against BM_log_int_double_str, the cost of context on the caller.
void BM_log_int_double_str_in_context(benchmark::State& state) {
  const char* str = "a string";
  gidlog::context_scope scope{{"req", "r-42"}, {"user_id", 7}};
  timed_calls(state, [&](int i) { LOG_INFO("Logging int: {}, double: {:.3f}, str: {}", i, i * 1.1, str); });
}
BENCHMARK(BM_log_int_double_str_in_context);

// Named placeholders cost nothing on the caller: the names are taken out at compile time.
void BM_log_named_fields(benchmark::State& state) {
  const char* str = "a string";
  timed_calls(state, [&](int i) { LOG_INFO("Logging int: {n}, double: {x:.3f}, str: {s}", i, i * 1.1, str); });
}
BENCHMARK(BM_log_named_fields);

void BM_log_no_args(benchmark::State& state) {
  timed_calls(state, [](int) { LOG_INFO("a constant message"); });
}
BENCHMARK(BM_log_no_args);

void BM_log_std_string_40(benchmark::State& state) {
  std::string s(40, 's');
  timed_calls(state, [&](int) { LOG_INFO("s={}", s); });
}
BENCHMARK(BM_log_std_string_40);

void BM_log_disabled_level(benchmark::State& state) {
  int x = 0;
  for (auto _ : state) {
    LOG_DEBUG("not written {}", x);
    benchmark::DoNotOptimize(x);
  }
}
BENCHMARK(BM_log_disabled_level);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  session s;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
