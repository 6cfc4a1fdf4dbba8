// Google Benchmark: the LOG_* call on the caller thread, and a call below the run-time level.
// Every 4096 calls the timer pauses while the backend drains (flush), so the numbers are the
// caller's cost with room in the queue, not the backend's throughput.
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/ranges.h>
#include <fmt/std.h>

#include <gidlog/gidlog.h>

namespace {

// Lines go to /dev/null: the timer is paused while the backend writes them (timed_calls), and a
// file would grow by some 100 bytes per iteration (50 GB for --benchmark_repetitions=5 filled
// this machine's disk once).
struct session {
  explicit session(std::size_t backtrace = 0) {
    gidlog::options opt;
    opt.sinks = {gidlog::file_sink("/dev/null")};
    opt.backtrace.capacity = backtrace;
    gidlog::start(opt);
  }
  ~session() { gidlog::stop(); }
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

// LOG_*_EVERY: the rate gate on the caller. With a period of an hour every call after the first
// is skipped (one clock read, one load and one counter increment: no record, nothing formatted);
// at 2 threads the two share the gate's counter. With a zero period every call is written: the
// gate's compare-exchange and counter swap on top of BM_log_no_args.
void BM_log_every_skipped(benchmark::State& state) {
  int x = 0;
  for (auto _ : state) {
    LOG_INFO_EVERY(std::chrono::hours(1), "at most once an hour {}", x);
    benchmark::DoNotOptimize(x);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_log_every_skipped)->Threads(1)->Threads(2)->UseRealTime();

void BM_log_every_written(benchmark::State& state) {
  timed_calls(state, [](int) { LOG_INFO_EVERY(std::chrono::nanoseconds(0), "a constant message"); });
}
BENCHMARK(BM_log_every_written);

// A named logger: the same call through LOGGER_INFO (the record also carries the logger).
void BM_logger_int_double_str(benchmark::State& state) {
  const char* str = "a string";
  gidlog::logger& lg = gidlog::get_logger("bench");
  timed_calls(state, [&](int i) { LOGGER_INFO(lg, "Logging int: {}, double: {:.3f}, str: {}", i, i * 1.1, str); });
}
BENCHMARK(BM_logger_int_double_str);

void BM_logger_disabled_level(benchmark::State& state) {
  gidlog::logger& lg = gidlog::get_logger("bench");
  int x = 0;
  for (auto _ : state) {
    LOGGER_DEBUG(lg, "not written {}", x);
    benchmark::DoNotOptimize(x);
  }
}
BENCHMARK(BM_logger_disabled_level);

// A record below the level kept for the backtrace (options::backtrace.capacity = 64): encoded and
// sent to the backend like a written one, against BM_log_int_double_str (the goal: within 2x).
void BM_log_kept_backtrace(benchmark::State& state) {
  gidlog::stop();
  {
    session kept(64);
    const char* str = "a string";
    timed_calls(state, [&](int i) { LOG_DEBUG("Logging int: {}, double: {:.3f}, str: {}", i, i * 1.1, str); });
  }
  gidlog::start([] {
    gidlog::options opt;
    opt.sinks = {gidlog::file_sink("/dev/null")};
    return opt;
  }());
}
BENCHMARK(BM_log_kept_backtrace);

// Common standard types (README's table): captured on the caller and formatted on the backend
// (BM_log_std_*), against what formatting them on the caller alone costs (BM_caller_format_std_*,
// fmt into a stack buffer, before any record is made).
template <class T>
void log_one(benchmark::State& state, const T& v) {
  timed_calls(state, [&](int) { LOG_INFO("v={}", v); });
}
template <class T>
void caller_format(benchmark::State& state, const T& v) {
  char buf[256];
  for (auto _ : state) {
    auto r = fmt::format_to_n(buf, sizeof buf, "v={}", v);
    benchmark::DoNotOptimize(r.size);
  }
}
const std::chrono::milliseconds g_ms{1234};
const auto g_tp = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
const std::optional<int> g_opt = 42;
const std::vector<int> g_vec{1, 2, 3, 4, 5, 6, 7, 8};
const std::error_code g_ec = std::make_error_code(std::errc::timed_out);
const std::filesystem::path g_path = "/var/lib/service/data/segment-000042.log";
enum class bench_enum { a, b };
void BM_log_std_duration(benchmark::State& s) { log_one(s, g_ms); }
void BM_caller_format_std_duration(benchmark::State& s) { caller_format(s, g_ms); }
void BM_log_std_time_point(benchmark::State& s) { log_one(s, g_tp); }
void BM_caller_format_std_time_point(benchmark::State& s) { caller_format(s, g_tp); }
void BM_log_std_optional(benchmark::State& s) { log_one(s, g_opt); }
void BM_caller_format_std_optional(benchmark::State& s) { caller_format(s, *g_opt); }  // fmt 9: no optional
void BM_log_std_vector8(benchmark::State& s) { log_one(s, g_vec); }
void BM_caller_format_std_vector8(benchmark::State& s) { caller_format(s, g_vec); }
void BM_log_std_error_code(benchmark::State& s) { log_one(s, g_ec); }
void BM_caller_format_std_error_code(benchmark::State& s) { caller_format(s, g_ec.message()); }
void BM_log_std_path(benchmark::State& s) { log_one(s, g_path); }
void BM_caller_format_std_path(benchmark::State& s) { caller_format(s, g_path); }
void BM_log_enum(benchmark::State& s) { log_one(s, bench_enum::b); }
void BM_caller_format_enum(benchmark::State& s) { caller_format(s, fmt::underlying(bench_enum::b)); }
BENCHMARK(BM_log_std_duration);
BENCHMARK(BM_caller_format_std_duration);
BENCHMARK(BM_log_std_time_point);
BENCHMARK(BM_caller_format_std_time_point);
BENCHMARK(BM_log_std_optional);
BENCHMARK(BM_caller_format_std_optional);
BENCHMARK(BM_log_std_vector8);
BENCHMARK(BM_caller_format_std_vector8);
BENCHMARK(BM_log_std_error_code);
BENCHMARK(BM_caller_format_std_error_code);
BENCHMARK(BM_log_std_path);
BENCHMARK(BM_caller_format_std_path);
BENCHMARK(BM_log_enum);
BENCHMARK(BM_caller_format_enum);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  session s;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
