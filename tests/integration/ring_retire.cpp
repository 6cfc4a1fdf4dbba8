// Rings that grow under a burst and are given back when idle (issue 19), as seen from the records:
// a thread whose grown ring was retired while it was silent logs again into a new small ring, and
// nothing is lost or reordered; a thread that logs steadily moves to a larger ring the backend
// made for it, and gives that back the same way. Runs in every build, the sanitizers' included (the memory figures
// themselves are checked in the uninstrumented build: footprint_*.cpp), so ThreadSanitizer sees
// the retirement's hand-off between the backend and a thread that logs again.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <latch>
#include <string>
#include <thread>
#include <vector>

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

// Checks that `lines` are the records "r 0" to "r <n - 1>", in order: one CHECK for the lot
// (thousands of them would flood the report).
void check_numbered(const std::vector<std::string>& lines, int n) {
  REQUIRE(lines.size() == static_cast<std::size_t>(n));
  int first_wrong = -1;
  for (std::size_t i = 0; i < lines.size() && first_wrong < 0; ++i) {
    const std::string want = "] r " + std::to_string(i);
    const std::string& line = lines[i];
    if (line.size() < want.size() || line.compare(line.size() - want.size(), want.size(), want) != 0)
      first_wrong = static_cast<int>(i);
  }
  INFO("first line out of place: " << first_wrong << (first_wrong >= 0 ? " " + lines[static_cast<std::size_t>(first_wrong)] : ""));
  CHECK(first_wrong == -1);
}

}  // namespace

TEST_CASE("a ring retired after a burst: its thread logs again, nothing is lost or reordered", "[logger][ring]") {
  gidlog_test::logger_session session;  // stopped below, before the lines are read
  const auto& sink = session.sink;
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
  check_numbered(sink->lines(), burst + after);
}

TEST_CASE("a steady writer moves to a larger ring the backend made, and gives it back when idle", "[logger][ring]") {
  gidlog_test::logger_session session;  // stopped below, before the lines are read
  const auto& sink = session.sink;
  gidlog::flush();  // this thread's own (one-page) ring is in the baseline
  const gidlog::counters before = gidlog::get_counters();

  // About 10 000 records a second in batches of 10: the one-page ring laps many times a second
  // without having to be full. The backend measures the rate over 100 ms windows.
  std::atomic<bool> enough{false};
  std::latch silent(1), done(1);
  int logged = 0;
  std::thread t([&] {
    while (!enough.load()) {
      for (int k = 0; k < 10; ++k, ++logged) LOG_INFO("r {}", logged);
      std::this_thread::sleep_for(1ms);
    }
    silent.count_down();
    done.wait();  // silent, alive: its ring is idle
  });
  const bool enlarged = wait_for_counters([&](const gidlog::counters& c) { return c.rings_enlarged > before.rings_enlarged; }, 20s);
  const std::uint64_t bytes_enlarged = gidlog::get_counters().ring_bytes;
  enough.store(true);
  silent.wait();
  gidlog::flush();
  // Idle for a second: the larger ring is given back like a grown one.
  const bool given_back = wait_for_counters([&](const gidlog::counters& c) { return c.ring_bytes <= before.ring_bytes; }, 20s);
  done.count_down();
  t.join();
  gidlog::stop();

  INFO("ring bytes: " << before.ring_bytes << " before, " << bytes_enlarged << " once enlarged, "
                      << gidlog::get_counters().ring_bytes << " at the end; " << logged << " records");
  REQUIRE(enlarged);
  CHECK(bytes_enlarged >= before.ring_bytes + 64 * 1024);  // a quarter second at ~10 000/s, in 64-byte slots
  CHECK(given_back);
  check_numbered(sink->lines(), logged);
}

TEST_CASE("a ring that is busy is not retired: a slow steady writer keeps its ring", "[logger][ring]") {
  gidlog_test::logger_session session;  // stopped below, before the lines are read
  const auto& sink = session.sink;
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
