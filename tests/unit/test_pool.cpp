// worker_pool: results, exceptions, close, cancel, run_for, resize, overflow, deadlock checks.
// Every wait is on a latch, a future or a task handle; no sleep decides an outcome.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <gidlog/gidlog.h>
#include <gidlog/runtime.h>

#include "test_timing.h"

using namespace std::chrono_literals;

namespace {

// Occupies every worker of `pool` until release(); returns once they all run.
class blocker {
 public:
  blocker(gidlog::worker_pool& pool, std::size_t workers) : started_(static_cast<std::ptrdiff_t>(workers)) {
    for (std::size_t i = 0; i < workers; ++i) {
      tasks_.push_back(pool.submit([this] {
        started_.count_down();
        gate_.wait();
      }));
    }
    started_.wait();
  }
  ~blocker() { release(); }
  void release() {
    if (!released_) {
      released_ = true;
      gate_.count_down();
      for (auto& t : tasks_) t.get();
    }
  }

 private:
  std::latch started_;
  std::latch gate_{1};
  std::vector<gidlog::task<void>> tasks_;
  bool released_ = false;
};

}  // namespace

TEST_CASE("pool: returns the results and exceptions of 10000 jobs", "[pool]") {
  gidlog::worker_pool pool({.name = "results", .threads = 4});
  constexpr int n = 10000;
  std::vector<gidlog::task<int>> handles;
  handles.reserve(n);
  for (int i = 0; i < n; ++i) {
    handles.push_back(pool.submit([i]() -> int {
      if (i % 7 == 0) throw std::runtime_error("job " + std::to_string(i));
      return i * 2;
    }));
  }
  int values = 0, errors = 0, wrong = 0;
  for (int i = 0; i < n; ++i) {
    try {
      if (handles[static_cast<std::size_t>(i)].get() != i * 2) ++wrong;
      ++values;
    } catch (const std::runtime_error& e) {
      if (i % 7 != 0 || e.what() != "job " + std::to_string(i)) ++wrong;
      ++errors;
    }
  }
  CHECK(wrong == 0);
  CHECK(errors == (n + 6) / 7);
  CHECK(values == n - errors);
  pool.join();
  const gidlog::pool_stats s = pool.stats();
  CHECK(s.started == static_cast<std::uint64_t>(n));
  CHECK(s.failed == static_cast<std::uint64_t>(errors));
  CHECK(s.succeeded == static_cast<std::uint64_t>(values));
  CHECK(s.submitted == static_cast<std::uint64_t>(n));
  CHECK(s.queued == 0);
}

TEST_CASE("pool: keeps its workers after a job throws", "[pool]") {
  gidlog::worker_pool pool("survivor", 1);
  auto bad = pool.submit([]() -> int { throw std::logic_error("boom"); });
  CHECK_THROWS_AS(bad.get(), std::logic_error);
  CHECK(pool.run([] { return 5; }) == 5);
  CHECK(pool.stats().failed == 1);
}

TEST_CASE("pool: throws pool_closed after close", "[pool]") {
  gidlog::worker_pool pool("closing", 2);
  auto before = pool.submit([] { return 1; });
  pool.close();
  CHECK(pool.closed());
  CHECK(before.get() == 1);
  CHECK_THROWS_AS(pool.submit([] { return 2; }), gidlog::pool_closed);
  CHECK_THROWS_AS(pool.post([] {}), gidlog::pool_closed);
  CHECK_THROWS_AS(pool.run([] {}), gidlog::pool_closed);
  CHECK_THROWS_AS(pool.try_submit([] {}), gidlog::pool_closed);
  CHECK_THROWS_AS(pool.resize(3), gidlog::pool_closed);
  pool.join();
}

TEST_CASE("pool: close cancel_queued completes queued jobs with task_cancelled", "[pool]") {
  gidlog::worker_pool pool("cancel", 1);
  blocker b(pool, 1);
  std::atomic<int> ran{0};
  std::vector<gidlog::task<void>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(pool.submit([&ran] { ++ran; }));
  CHECK(pool.queued() == 5);
  pool.close(gidlog::close_mode::cancel_queued);
  for (auto& t : queued) {
    CHECK(t.state() == gidlog::task_state::cancelled);
    CHECK_THROWS_AS(t.get(), gidlog::task_cancelled);
  }
  b.release();
  pool.join();
  CHECK(ran == 0);
  CHECK(pool.stats().cancelled == 5);
}

TEST_CASE("pool: task cancel drops a queued job and stops a running one", "[pool]") {
  gidlog::worker_pool pool("cancel-one", 1);
  std::latch started(1);
  auto running = pool.submit([&started](std::stop_token st) {
    started.count_down();
    while (!st.stop_requested()) std::this_thread::yield();
    return std::string("stopped");
  });
  started.wait();
  auto queued = pool.submit([] { return std::string("ran"); });
  CHECK(queued.cancel());
  CHECK_FALSE(queued.cancel());
  CHECK_THROWS_AS(queued.get(), gidlog::task_cancelled);
  CHECK(running.state() == gidlog::task_state::running);
  CHECK_FALSE(running.cancel());
  CHECK(running.get() == "stopped");
}

TEST_CASE("pool: run_for times out a job that is still queued", "[pool]") {
  gidlog::worker_pool pool("timeout-queued", 1);
  blocker b(pool, 1);
  std::atomic<bool> ran{false};
  CHECK_THROWS_AS(pool.run_for([&ran] { ran = true; }, 20ms), gidlog::task_timeout);
  b.release();
  pool.join();
  CHECK_FALSE(ran);
  CHECK(pool.stats().cancelled == 1);
}

TEST_CASE("pool: run_for times out a running job and sends it a stop request", "[pool]") {
  gidlog::worker_pool pool("timeout-running", 1);
  std::atomic<bool> saw_stop{false};
  CHECK_THROWS_AS(pool.run_for(
                      [&saw_stop](std::stop_token st) {
                        while (!st.stop_requested()) std::this_thread::yield();
                        saw_stop = true;
                        return 1;
                      },
                      gidlog_test::wakeup_deadline(250ms)),  // the worker must take the job first (20 ms was
                                                              // not always enough on a loaded machine)
                  gidlog::task_timeout);
  CHECK(saw_stop);  // run_for waited for the job to return
  CHECK(pool.run_for([] { return 7; }, 10s) == 7);
}

TEST_CASE("pool: run with a stop_token drops a queued job and stops a running one", "[pool]") {
  gidlog::worker_pool pool("ctx", 1);
  {
    blocker b(pool, 1);
    std::stop_source src;
    std::thread stopper([&src, &pool] {
      while (pool.queued() == 0) std::this_thread::yield();  // the run() below has queued its job
      src.request_stop();
    });
    CHECK_THROWS_AS(pool.run([] { return 1; }, src.get_token()), gidlog::task_cancelled);
    stopper.join();
  }
  std::stop_source src;
  std::latch started(1);
  std::thread stopper([&] {
    started.wait();
    src.request_stop();
  });
  const int v = pool.run(
      [&started](std::stop_token st) {
        started.count_down();
        while (!st.stop_requested()) std::this_thread::yield();
        return 3;
      },
      src.get_token());
  stopper.join();
  CHECK(v == 3);
  std::stop_source already;
  already.request_stop();
  CHECK_THROWS_AS(pool.run([] {}, already.get_token()), gidlog::task_cancelled);
}

TEST_CASE("pool: resize up and down under load loses no job", "[pool]") {
  gidlog::worker_pool pool("elastic", 2);
  std::atomic<int> done{0};
  constexpr int n = 20000;
  const std::size_t sizes[] = {4, 1, 3, 1, 2};
  for (int i = 0; i < n; ++i) {
    pool.post([&done] { done.fetch_add(1, std::memory_order_relaxed); });
    if (i % 4000 == 1999) {
      pool.resize(sizes[i / 4000]);
      CHECK(pool.size() == sizes[i / 4000]);
    }
  }
  pool.join();
  CHECK(done == n);
  CHECK(pool.stats().started == static_cast<std::uint64_t>(n));
}

TEST_CASE("pool: resize takes effect while every worker is busy", "[pool]") {
  gidlog::worker_pool pool("grow", 1);
  blocker b(pool, 1);
  std::latch second_worker_ran(1);
  pool.post([&second_worker_ran] { second_worker_ran.count_down(); });
  pool.resize(2);  // does not wait for the busy worker
  second_worker_ran.wait();
  CHECK(pool.size() == 2);
  b.release();
  pool.resize(1);
  CHECK(pool.run([] { return 1; }) == 1);
}

TEST_CASE("pool: overflow reject: try_submit fails and submit throws pool_full", "[pool]") {
  gidlog::worker_pool pool({.name = "bounded", .threads = 1, .max_queue = 2, .on_full = gidlog::overflow::reject});
  blocker b(pool, 1);
  auto a = pool.submit([] { return 1; });
  auto c = pool.try_submit([] { return 2; });
  REQUIRE(c.has_value());
  CHECK_FALSE(pool.try_submit([] { return 3; }).has_value());
  CHECK_FALSE(pool.try_post([] {}));
  CHECK_THROWS_AS(pool.submit([] { return 4; }), gidlog::pool_full);
  CHECK(pool.stats().rejected == 3);
  b.release();
  CHECK(a.get() == 1);
  CHECK(c->get() == 2);
}

TEST_CASE("pool: overflow block: a submitter waits for room", "[pool]") {
  gidlog::worker_pool pool({.name = "blocking", .threads = 1, .max_queue = 1});
  blocker b(pool, 1);
  auto first = pool.submit([] { return 1; });
  std::latch submitted(1);
  int second_value = 0;
  std::thread submitter([&] {
    auto t = pool.submit([] { return 2; });  // blocks: the queue holds `first`
    submitted.count_down();
    second_value = t.get();
  });
  bool saw_blocked = false;
  while (!saw_blocked) {
    for (const auto& t : gidlog::tasks::list()) {
      if (t.owner == "pool \"blocking\"" && t.state == gidlog::task_state::blocked_in_submit) saw_blocked = true;
    }
    std::this_thread::yield();
  }
  b.release();
  submitted.wait();
  submitter.join();
  CHECK(first.get() == 1);
  CHECK(second_value == 2);
}

TEST_CASE("pool: a worker waiting on its own pool gets would_deadlock", "[pool]") {
  gidlog::worker_pool pool("self", 1);
  auto r = pool.submit([&pool] {
    std::vector<std::string> seen;
    try {
      pool.run([] {});
    } catch (const gidlog::would_deadlock&) {
      seen.push_back("run");
    }
    try {
      pool.join();
    } catch (const gidlog::would_deadlock&) {
      seen.push_back("join");
    }
    auto inner = pool.submit([] { return 1; });  // queued, never blocks
    try {
      inner.get();
    } catch (const gidlog::would_deadlock&) {
      seen.push_back("get");
    }
    return seen;
  });
  CHECK(r.get() == std::vector<std::string>{"run", "join", "get"});
}

TEST_CASE("pool: close_and_join stops running jobs after its timeout", "[pool]") {
  gidlog::worker_pool pool("deadline", 1);
  std::latch started(1);
  auto t = pool.submit([&started](std::stop_token st) {
    started.count_down();
    while (!st.stop_requested()) std::this_thread::yield();
    return 9;
  });
  auto queued = pool.submit([] { return 10; });
  started.wait();
  CHECK_FALSE(pool.close_and_join(10ms));
  CHECK(t.get() == 9);
  CHECK_THROWS_AS(queued.get(), gidlog::task_cancelled);
  pool.join();
  CHECK(pool.close_and_join(1s));
}

TEST_CASE("pool: task handles are move-only and report their state", "[pool]") {
  gidlog::worker_pool pool("handles", 1);
  gidlog::task<int> t = pool.submit([] { return 4; });
  const std::uint64_t id = t.id();
  gidlog::task<int> u = std::move(t);
  CHECK_FALSE(t.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  REQUIRE(u.valid());
  CHECK(u.id() == id);
  u.wait();
  CHECK(u.ready());
  CHECK(u.wait_for(0ms));
  CHECK(u.state() == gidlog::task_state::succeeded);
  CHECK(u.get() == 4);
  CHECK_FALSE(u.valid());
}

TEST_CASE("pool: stats count busy and idle workers and queue wait", "[pool]") {
  gidlog::worker_pool pool("stats", 2);
  {
    blocker b(pool, 1);
    const gidlog::pool_stats s = pool.stats();
    CHECK(s.busy == 1);
    CHECK(s.idle == 1);
    CHECK(pool.running() == 1);
  }
  pool.join();
  const gidlog::pool_stats s = pool.stats();
  CHECK(s.started == 1);
  CHECK(s.total_run_time.count() > 0);
  CHECK(s.max_queue_wait.count() >= 0);
}

TEST_CASE("pool: jobs outlive the threads that submitted them", "[pool]") {
  const std::size_t before = gidlog::tasks::count();
  std::atomic<int> done{0};
  {
    gidlog::worker_pool pool("orphans", 2);
    std::latch gate(1);
    std::vector<std::thread> submitters;
    for (int t = 0; t < 8; ++t) {
      submitters.emplace_back([&] {
        for (int i = 0; i < 100; ++i) {
          pool.post([&] {
            gate.wait();
            done.fetch_add(1);
          });
        }
      });
    }
    for (auto& s : submitters) s.join();  // every submitter exits with its jobs still queued
    CHECK(gidlog::tasks::count() == before + 800);
    gate.count_down();
    std::vector<std::thread> more;  // new threads adopt the exited threads' slot heaps
    for (int t = 0; t < 4; ++t) {
      more.emplace_back([&] {
        for (int i = 0; i < 200; ++i) pool.post([&] { done.fetch_add(1); });
      });
    }
    for (auto& m : more) m.join();
  }
  CHECK(done == 1600);
  CHECK(gidlog::tasks::count() == before);
}

TEST_CASE("pool: task handles outlive their pool", "[pool]") {
  std::vector<gidlog::task<std::string>> handles;
  {
    gidlog::worker_pool pool("short-lived", 2);
    for (int i = 0; i < 50; ++i) {
      handles.push_back(pool.submit([i] { return std::string(static_cast<std::size_t>(i % 7 + 300), 'x'); }));
    }
  }
  std::size_t total = 0;
  for (auto& h : handles) total += h.get().size();
  CHECK(total > 50 * 300);
}

TEST_CASE("pool: jobs too big for a registry slot are registered too", "[pool]") {
  gidlog::worker_pool pool("big", 1);
  std::latch gate(1);
  struct payload {
    char bytes[1024] = {};
  };
  const std::size_t before = gidlog::tasks::count();
  auto t = pool.submit([&gate, p = payload{}] {
    gate.wait();
    return static_cast<std::size_t>(std::count(p.bytes, p.bytes + sizeof(p.bytes), 0));
  });
  CHECK(gidlog::tasks::count() == before + 1);
  gate.count_down();
  CHECK(t.get() == 1024);
  CHECK(gidlog::tasks::count() == before);
}

TEST_CASE("pool: waits with huge timeouts mean no deadline", "[pool]") {
  gidlog::worker_pool pool("forever", 1);
  auto t = pool.submit([] { return 2; });
  CHECK(t.wait_for(std::chrono::hours::max()));
  CHECK(pool.run_for([] { return 3; }, std::chrono::nanoseconds::max()) == 3);
  gidlog::limiter lim("forever", 1);
  CHECK(lim.go_for([] {}, std::chrono::hours::max()));
  lim.wait();
  CHECK(lim.try_acquire_for(std::chrono::seconds::max()));
  CHECK(t.get() == 2);
}

TEST_CASE("pool: a submit racing close either throws pool_closed or runs its job", "[pool]") {
  for (const std::size_t max_queue : {std::size_t{0}, std::size_t{64}}) {
    gidlog::worker_pool pool({.name = "race", .threads = 2, .max_queue = max_queue});
    std::atomic<int> accepted{0}, ran{0}, refused{0};
    std::latch go(5);
    std::vector<std::thread> submitters;
    for (int t = 0; t < 4; ++t) {
      submitters.emplace_back([&] {
        go.arrive_and_wait();
        for (;;) {
          try {
            pool.post([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
            accepted.fetch_add(1, std::memory_order_relaxed);
          } catch (const gidlog::pool_closed&) {
            refused.fetch_add(1, std::memory_order_relaxed);
            return;
          }
        }
      });
    }
    go.arrive_and_wait();
    while (accepted.load() < 2000) std::this_thread::yield();
    pool.close();
    for (auto& s : submitters) s.join();
    pool.join();
    CHECK(refused == 4);
    CHECK(ran == accepted);
    CHECK(pool.stats().started == static_cast<std::uint64_t>(accepted.load()));
  }
}
