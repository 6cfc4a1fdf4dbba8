// Rings that grow under a burst and are given back when idle (issue 19), as seen from the records:
// a thread whose grown ring was retired while it was silent logs again into a new small ring, and
// nothing is lost or reordered. Runs in every build, the sanitizers' included (the memory figures
// themselves are checked in the uninstrumented build: footprint_*.cpp), so ThreadSanitizer sees
// the retirement's hand-off between the backend and a thread that logs again.
#include <catch2/catch.hpp>

#include <chrono>
#include <latch>
#include <string>
#include <thread>

#include <gidlog/gidlog.h>

#include "log_capture.h"

namespace {

using namespace std::chrono_literals;

// Polls get_counters() until `done` holds, for at most `limit`.
template <class Pred>
bool wait_for_counters(Pred done, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done(gidlog::get_counters())) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace

TEST_CASE("a ring retired after a burst: its thread logs again, nothing is lost or reordered", "[logger][ring]") {
  auto sink = std::make_shared<gidlog_test::test_sink>();
  gidlog::options opt;
  opt.sinks = {sink};
  gidlog::start(opt);
  gidlog::flush();  // this thread's own (one-page) ring is in the baseline
  const std::uint64_t retired_before = gidlog::get_counters().rings_retired;
  const std::uint64_t bytes_idle = gidlog::get_counters().ring_bytes;

  constexpr int burst = 20000, after = 500;
  std::latch burst_logged(1), retired(1);
  std::thread t([&] {
    for (int i = 0; i < burst; ++i) LOG_INFO("r {}", i);
    burst_logged.count_down();
    retired.wait();  // silent, alive: its ring is idle
    for (int i = burst; i < burst + after; ++i) LOG_INFO("r {}", i);
  });
  burst_logged.wait();
  gidlog::flush();
  const std::uint64_t bytes_after_burst = gidlog::get_counters().ring_bytes;
  // A ring larger than a page, empty for a second, is given back (within a few more seconds on
  // a loaded machine).
  const bool was_retired = wait_for_counters(
      [&](const gidlog::counters& c) { return c.rings_retired > retired_before && c.ring_bytes <= bytes_idle; }, 20s);
  retired.count_down();
  t.join();
  gidlog::flush();
  gidlog::stop();

  INFO("ring bytes: " << bytes_idle << " before the burst, " << bytes_after_burst << " after it");
  CHECK(bytes_after_burst > bytes_idle);  // the burst made the ring grow
  CHECK(was_retired);
  const auto lines = sink->lines();
  REQUIRE(lines.size() == static_cast<std::size_t>(burst + after));
  int first_wrong = -1;  // one CHECK for the lot: 20 500 of them would flood the report
  for (int i = 0; i < burst + after && first_wrong < 0; ++i) {
    const std::string want = "] r " + std::to_string(i);
    const std::string& line = lines[static_cast<std::size_t>(i)];
    if (line.size() < want.size() || line.compare(line.size() - want.size(), want.size(), want) != 0) first_wrong = i;
  }
  INFO("first line out of place: " << first_wrong << (first_wrong >= 0 ? " " + lines[static_cast<std::size_t>(first_wrong)] : ""));
  CHECK(first_wrong == -1);
}

TEST_CASE("a ring that is busy is not retired: a slow steady writer keeps its ring", "[logger][ring]") {
  auto sink = std::make_shared<gidlog_test::test_sink>();
  gidlog::options opt;
  opt.sinks = {sink};
  gidlog::start(opt);
  const std::uint64_t retired_before = gidlog::get_counters().rings_retired;
  // Grow the ring, then keep logging a record every 100 ms for 2.5 s: never a second idle.
  for (int i = 0; i < 5000; ++i) LOG_INFO("r {}", i);
  for (int i = 5000; i < 5025; ++i) {
    std::this_thread::sleep_for(100ms);
    LOG_INFO("r {}", i);
  }
  gidlog::flush();
  const std::uint64_t retired = gidlog::get_counters().rings_retired - retired_before;
  gidlog::stop();
  CHECK(retired == 0);
  CHECK(sink->lines().size() == 5025u);
}
