// An idle logger sleeps (issue 19): once nothing has been logged for a while, the backend thread
// "gidlog-backend" is switched out at most about once a second, counted by the kernel
// (voluntary + involuntary context switches in /proc/self/task/TID/status). A backend that polls
// its rings switches thousands of times a second; one that sleeps until the next record, or
// wakes once a second for housekeeping (options::reopen_check), a few times in the window.
//
// Context switches are counted exactly on a loaded machine too: a sleeping thread is not
// preempted, and one that is woken counts the wake-up whatever the load. The windows are
// measurement windows, not waits for an event. CPU time is reported, not asserted (it is a
// wall-time-like figure on a shared machine: bench/footprint measures it).
#include <catch2/catch.hpp>

#include <chrono>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include <gidlog/gidlog.h>

#include "log_capture.h"
#include "proc_self.h"

namespace {

using namespace std::chrono_literals;

constexpr auto settle = 1500ms;  // records stopped 1.5 s before the window starts
constexpr auto window = 2s;
constexpr std::uint64_t max_switches = 4;  // at most 1 a second, plus slack

struct idle_sample {
  std::uint64_t switches = 0;
  double cpu_ms = 0;
  double seconds = 0;
};

// The backend's context switches and CPU time over `window`, starting `settle` from now.
idle_sample measure_idle_backend() {
  const pid_t tid = gidlog_test::thread_by_name("gidlog-backend");
  REQUIRE(tid != 0);
  std::this_thread::sleep_for(settle);
  const auto a = gidlog_test::thread_stats(tid);
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(window);
  const auto b = gidlog_test::thread_stats(tid);
  const auto t1 = std::chrono::steady_clock::now();
  REQUIRE(a.ok);
  REQUIRE(b.ok);
  return {b.switches() - a.switches(), static_cast<double>(b.cpu_ns - a.cpu_ns) / 1e6,
          std::chrono::duration<double>(t1 - t0).count()};
}

}  // namespace

TEST_CASE("idle after one record: the backend wakes at most once a second", "[footprint][idle]") {
  gidlog_test::file_session session("idle.log");
  LOG_INFO("the only record");
  gidlog::flush();
  const idle_sample s = measure_idle_backend();
  const auto lines = session.stop_and_read();
  INFO("backend: " << s.switches << " context switches and " << s.cpu_ms << " ms of CPU in " << s.seconds << " s");
  CHECK(lines.size() == 1);
  CHECK(s.switches <= max_switches);
}

TEST_CASE("idle with 200 threads that logged once: the backend wakes at most once a second", "[footprint][idle]") {
  // A backend whose idle cost grows with the threads it has seen (one poll per ring) fails here.
  constexpr int threads = 200;
  gidlog_test::file_session session("idle200.log");
  std::latch ready(threads), release(1);
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i)
    ts.emplace_back([&, i] {
      LOG_INFO("thread {} logs once, then blocks", i);
      ready.count_down();
      release.wait();
    });
  ready.wait();
  gidlog::flush();
  const idle_sample s = measure_idle_backend();
  release.count_down();
  for (auto& t : ts) t.join();
  const auto lines = session.stop_and_read();
  INFO("backend: " << s.switches << " context switches and " << s.cpu_ms << " ms of CPU in " << s.seconds << " s");
  CHECK(lines.size() == threads);
  CHECK(s.switches <= max_switches);
}
