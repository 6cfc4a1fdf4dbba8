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

// ---- the call's time, read at the claim ----------------------------------------------------------
// A LOG_* call reads its time right after it stamps its slot and stores it in the slot's word at
// once, before its arguments are encoded: a probe argument, formatted on the caller between the
// claim and the commit, reads the slot this call writes. Its word must carry this lap's tag, no
// ready bit, and a time between the cycle counter read before the call and the one read in the
// probe; after the call the same word is published with the ready bit.
namespace {
struct claim_probe {};
struct probe_seen {
  gidlog::detail::record* slot = nullptr;
  std::uint64_t word = 0;
  std::uint64_t tag = 0;
  std::uint64_t at = 0;  // the cycle counter in the probe
};
probe_seen g_probe;
}  // namespace

template <>
struct fmt::formatter<claim_probe> : fmt::formatter<std::string_view> {
  auto format(const claim_probe&, fmt::format_context& ctx) const {
    using namespace gidlog::detail;
    producer* p = tl_producer;
    const std::uint64_t w = p->write.load(std::memory_order_relaxed);
    g_probe.slot = &p->slots[w & p->mask];
    g_probe.word = slot_word(*g_probe.slot).load(std::memory_order_relaxed);
    g_probe.tag = lap_tag(w, p->mask);
    g_probe.at = gidlog::arch::cycles();
    return fmt::formatter<std::string_view>::format("probe", ctx);
  }
};

TEST_CASE("a call's time is in its slot from the claim on, read before its arguments", "[logger][ordering]") {
  using namespace gidlog::detail;
  gidlog::options opt;
  opt.queue_capacity = 1 << 12;  // the first ring (64 records) is lapped and grown: both lap tags
  gidlog_test::logger_session session(opt);
  constexpr int calls = 1000;
  int wrong_state = 0, too_early = 0, too_late = 0, not_published = 0;
  for (int i = 0; i < calls; ++i) {
    const std::uint64_t before = gidlog::arch::cycles();
    LOG_INFO("{} {}", claim_probe{}, i);
    const std::uint64_t seen = g_probe.word;
    if ((seen & 3) != g_probe.tag) ++wrong_state;  // stamped, this lap, not ready
    if ((seen >> 2) < before) ++too_early;         // a bound only, not the call's own time
    if ((seen >> 2) > g_probe.at) ++too_late;      // read after the arguments
    // The backend never writes a slot: the word stays as published until the slot's next lap.
    if (slot_word(*g_probe.slot).load(std::memory_order_acquire) != (seen | slot_ready)) ++not_published;
  }
  CHECK(wrong_state == 0);
  CHECK(too_early == 0);
  CHECK(too_late == 0);
  CHECK(not_published == 0);
  CHECK(session.lines().size() == calls);
}

// write_stashed claims a slot for a record a signal handler stashed earlier: neither the slot's
// stamp nor the time the claim stores may be above that record's own time (`ceiling`), or the
// backend could pass it and write a newer record of another thread first.
TEST_CASE("a claim with a ceiling stores neither a stamp nor a time above it", "[logger][ordering]") {
  using namespace gidlog::detail;
  gidlog::options opt;
  gidlog_test::logger_session session(opt);
  LOG_INFO("attach");  // this thread's ring, and a last stamp newer than the ceiling below
  const std::uint64_t ceiling = gidlog::arch::cycles() - 1000;
  LOG_INFO("newer");
  bool sync = true;
  record* slot = claim_slow(true, sync, ceiling << 2);
  REQUIRE(slot != nullptr);
  CHECK_FALSE(sync);
  producer* p = tl_producer;
  const std::uint64_t w = p->write.load(std::memory_order_relaxed);
  const std::uint64_t word = slot_word(*slot).load(std::memory_order_relaxed);
  CHECK((word & 3) == lap_tag(w, p->mask));
  CHECK((word >> 2) == ceiling);
  CHECK(p->last_stamp == ceiling << 2);
  // Taken back, as write_stashed does when the stash was emptied meanwhile.
  unstamp_slot(*slot, w, p->mask);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  set_busy(*p, false);
  LOG_INFO("after");
  auto lines = session.lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[2].find("after") != std::string::npos);
}
