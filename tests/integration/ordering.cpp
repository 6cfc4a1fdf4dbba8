// 8 threads x 200 000 records in block mode: every record is in the file, each thread's
// sequence is in order, and the timestamps in the file never go backwards.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <latch>
#include <string>
#include <thread>
#include <vector>

#include <gidlog/gidlog.h>

#include "log_capture.h"

TEST_CASE("8 threads x 200000 records: all present, per-thread order, time order", "[logger][ordering]") {
  constexpr int threads = 8;
  constexpr int per_thread = 200000;
  std::string path = gidlog_test::temp_path("order.log");
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(path, {.truncate = true})};
  opt.pattern = "%Y%m%d%H%M%S%F %v";  // fixed width, so text order is time order
  opt.queue_capacity = 2048;          // per thread, small: producers block often and the backend merges hard
  gidlog::start(opt);
  std::latch go(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([t, &go] {
      go.arrive_and_wait();
      for (int i = 0; i < per_thread; ++i) LOG_INFO("T{} {}", t, i);
    });
  }
  for (auto& th : pool) th.join();
  gidlog::stop();

  auto lines = gidlog_test::read_lines(path);
  ::unlink(path.c_str());
  REQUIRE(lines.size() == std::size_t{threads} * per_thread);
  std::vector<int> next(threads, 0);
  std::size_t bad_format = 0, out_of_order = 0, time_backwards = 0;
  std::string prev_ts;
  for (const std::string& l : lines) {
    // "YYYYmmddHHMMSSnnnnnnnnn T<t> <i>"
    if (l.size() < 27 || l[23] != ' ' || l[24] != 'T') {
      ++bad_format;
      continue;
    }
    std::string ts = l.substr(0, 23);
    if (ts < prev_ts) ++time_backwards;
    prev_ts = ts;
    auto sp = l.find(' ', 25);
    int t = std::stoi(l.substr(25, sp - 25));
    int i = std::stoi(l.substr(sp + 1));
    if (t < 0 || t >= threads || i != next[static_cast<std::size_t>(t)]) ++out_of_order;
    else ++next[static_cast<std::size_t>(t)];
  }
  CHECK(bad_format == 0);
  CHECK(out_of_order == 0);
  CHECK(time_backwards == 0);
  for (int t = 0; t < threads; ++t) CHECK(next[static_cast<std::size_t>(t)] == per_thread);
  CHECK(gidlog::get_counters().dropped == 0);
}

// The backend takes a bounded number of records per pass. With a backlog far larger than one pass
// (the sink stalled while two threads logged 60 000 records each, one after the other), a pass
// must not write the newer thread's records before the older thread's records still queued.
TEST_CASE("a backlog much larger than one dequeue pass stays in time order", "[logger][ordering]") {
  constexpr int per_thread = 60000;
  gidlog::options opt;
  opt.pattern = "%Y%m%d%H%M%S%F %v";
  // Per thread, and the newer thread takes over the older one's ring (and its 60 000 records).
  opt.queue_capacity = 1 << 17;
  gidlog_test::logger_session session(opt);
  session.sink->stall();
  LOG_INFO("first");  // the backend stalls writing this one: everything after it queues up
  while (session.sink->attempts() == 0) std::this_thread::yield();
  std::thread older([] {
    for (int i = 0; i < per_thread; ++i) LOG_INFO("A {}", i);
  });
  older.join();
  std::thread newer([] {
    for (int i = 0; i < per_thread; ++i) LOG_INFO("B {}", i);
  });
  newer.join();
  session.sink->release();
  auto lines = session.lines();
  REQUIRE(lines.size() == 2 * per_thread + 1);
  // Every A record was logged before every B record: A 0..n-1 must come first, then B 0..n-1.
  std::size_t misplaced = 0;
  std::string prev_ts;
  std::size_t time_backwards = 0;
  for (std::size_t k = 1; k < lines.size(); ++k) {
    const std::string& l = lines[k];
    const bool a = k <= per_thread;
    std::string want = (a ? "A " : "B ") + std::to_string(a ? k - 1 : k - 1 - per_thread);
    if (l.substr(24) != want) ++misplaced;
    std::string ts = l.substr(0, 23);
    if (ts < prev_ts) ++time_backwards;
    prev_ts = ts;
  }
  CHECK(misplaced == 0);
  CHECK(time_backwards == 0);
}
