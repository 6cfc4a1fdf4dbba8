// What a full queue does under each policy: drop counts exactly, block and grow lose nothing.
#include <catch2/catch.hpp>

#include <latch>
#include <regex>
#include <string>
#include <thread>

#include <gidlog/gidlog.h>

#include "log_capture.h"

namespace {

constexpr int records = 20000;

// Waits until the backend is stuck inside the stalled sink's write().
void wait_until_backend_in_sink(gidlog_test::test_sink& sink) {
  while (sink.attempts() == 0) std::this_thread::yield();
}

// Starts the logger on a fresh test_sink with a small queue under `policy`.
std::shared_ptr<gidlog_test::test_sink> start_small(std::size_t capacity, gidlog::queue_policy policy) {
  auto sink = std::make_shared<gidlog_test::test_sink>();
  gidlog::options opt;
  opt.sinks = {sink};
  opt.queue_capacity = capacity;
  opt.queue_policy = policy;
  opt.grow_max_bytes = 64 << 20;  // read only under grow
  gidlog::start(opt);
  return sink;
}

}  // namespace

TEST_CASE("drop: lines written plus drops reported equal records logged", "[logger][policy]") {
  auto sink = start_small(64, gidlog::queue_policy::drop);
  sink->stall();
  LOG_INFO("first");
  wait_until_backend_in_sink(*sink);
  for (int i = 0; i < records; ++i) LOG_INFO("r {}", i);
  sink->release();
  gidlog::flush();
  LOG_INFO("last");  // after the drops: the report must come before the end of the log
  gidlog::stop();

  auto lines = sink->lines();
  std::regex drop_re(R"(:WARN:gid-\d+:gidlog:0\] gidlog: (\d+) records dropped$)");
  long long reported = 0, kept = 0;
  int last_seen = -1;
  bool increasing = true;
  for (const std::string& l : lines) {
    std::smatch m;
    if (std::regex_search(l, m, drop_re)) {
      reported += std::stoll(m[1]);
    } else if (auto p = l.find("] r "); p != std::string::npos) {
      int i = std::stoi(l.substr(p + 4));
      increasing = increasing && i > last_seen;
      last_seen = i;
      ++kept;
    }
  }
  CHECK(reported > 0);
  CHECK(kept + reported == records);
  CHECK(increasing);
  CHECK(static_cast<long long>(gidlog::get_counters().dropped) == reported);
  CHECK_THAT(lines.back(), Catch::EndsWith("] last"));
}

TEST_CASE("block: a stalled sink stalls the caller, and nothing is lost", "[logger][policy]") {
  auto sink = start_small(64, gidlog::queue_policy::block);
  auto dropped_before = gidlog::get_counters().dropped;
  sink->stall();
  std::thread producer([] {
    for (int i = 0; i < records; ++i) LOG_INFO("r {}", i);
  });
  wait_until_backend_in_sink(*sink);
  sink->release();
  producer.join();
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == records);
  for (int i = 0; i < records; i += 997) CHECK_THAT(lines[static_cast<std::size_t>(i)], Catch::EndsWith("] r " + std::to_string(i)));
  CHECK(gidlog::get_counters().dropped == dropped_before);
}

TEST_CASE("grow: the queue grows past its capacity, and nothing is lost", "[logger][policy]") {
  auto sink = start_small(64, gidlog::queue_policy::grow);
  sink->stall();
  LOG_INFO("first");
  wait_until_backend_in_sink(*sink);
  for (int i = 0; i < records; ++i) LOG_INFO("r {}", i);  // never blocks: the sink is stalled
  sink->release();
  gidlog::stop();
  auto lines = sink->lines();
  REQUIRE(lines.size() == records + 1);
  CHECK_THAT(lines.back(), Catch::EndsWith("] r " + std::to_string(records - 1)));
}

TEST_CASE("block: threads that find every block held by another thread still get through", "[logger][policy]") {
  // moodycamel leaves a block with the token that first took it. One thread fills the whole
  // preallocated queue and stays alive; 64 later threads must not wait forever for a block.
  auto sink = start_small(1024, gidlog::queue_policy::block);
  std::latch hog_done(1), others_done(1);
  std::thread hog([&] {
    for (int i = 0; i < 50000; ++i) LOG_INFO("hog {}", i);
    hog_done.count_down();
    others_done.wait();  // keep its token, and so its blocks
  });
  hog_done.wait();
  std::vector<std::thread> others;
  for (int t = 0; t < 64; ++t)
    others.emplace_back([t] {
      for (int i = 0; i < 200; ++i) LOG_INFO("t{} {}", t, i);
    });
  for (auto& th : others) th.join();
  others_done.count_down();
  hog.join();
  gidlog::stop();
  CHECK(sink->count() == 50000 + 64 * 200);
}

namespace {

// Records in `lines` ending in "] <prefix><n>", and the sum of the in-band drop reports.
struct drop_tally {
  long long kept = 0;
  long long reported = 0;
};
drop_tally tally(const std::vector<std::string>& lines, const std::string& prefix) {
  std::regex drop_re(R"(:WARN:gid-\d+:gidlog:0\] gidlog: (\d+) records dropped$)");
  drop_tally t;
  for (const std::string& l : lines) {
    std::smatch m;
    if (std::regex_search(l, m, drop_re)) t.reported += std::stoll(m[1]);
    else if (l.find("] " + prefix) != std::string::npos) ++t.kept;
  }
  return t;
}

}  // namespace

TEST_CASE("drop: threads that never logged get room while another thread's ring stays full", "[logger][policy]") {
  // One thread logs 400 000 records against a stalled sink: its ring fills and it drops. Then,
  // with that thread alive and its ring still full, 4 new threads log 200 records each, slowly:
  // each has a ring of its own, so none of their 800 records may be dropped.
  auto sink = start_small(1024, gidlog::queue_policy::drop);
  sink->stall();
  LOG_INFO("first");
  wait_until_backend_in_sink(*sink);
  std::latch hog_done(1), others_done(1);
  std::thread hog([&] {
    for (int i = 0; i < 400000; ++i) LOG_INFO("hog {}", i);
    hog_done.count_down();
    others_done.wait();
  });
  hog_done.wait();
  const auto dropped_after_hog = gidlog::get_counters().dropped;
  CHECK(dropped_after_hog >= 400000 - 1024);  // the hog's ring was full
  std::vector<std::thread> others;
  for (int t = 0; t < 4; ++t)
    others.emplace_back([t] {
      for (int i = 0; i < 200; ++i) {
        LOG_INFO("new{} {}", t, i);
        std::this_thread::yield();
      }
    });
  for (auto& th : others) th.join();
  CHECK(gidlog::get_counters().dropped == dropped_after_hog);  // not one of the 800
  sink->release();
  others_done.count_down();
  hog.join();
  gidlog::stop();
  auto lines = sink->lines();
  CHECK(tally(lines, "new").kept == 800);
  const drop_tally h = tally(lines, "hog ");
  CHECK(h.kept + h.reported == 400000);
}

TEST_CASE("drop: drops in the first moments after start() reach the in-band report", "[logger][policy]") {
  // Logged right after start(), while the backend thread is still starting (it settles its clock
  // for 2 ms first): the ring of 64 overflows at once. Every record is a line or counted in a
  // "records dropped" line, exactly, over several runs.
  for (int run = 0; run < 5; ++run) {
    auto sink = start_small(64, gidlog::queue_policy::drop);
    const auto dropped_before = gidlog::get_counters().dropped;
    for (int i = 0; i < 5000; ++i) LOG_INFO("early {}", i);
    gidlog::stop();
    const drop_tally t = tally(sink->lines(), "early ");
    INFO("run " << run);
    CHECK(t.reported > 0);
    CHECK(t.kept + t.reported == 5000);
    CHECK(static_cast<long long>(gidlog::get_counters().dropped - dropped_before) == t.reported);
  }
}
