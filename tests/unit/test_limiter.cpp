// limiter: the bound, FIFO admission, tokens after exceptions, non-blocking and timed admission.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <gidlog/gidlog.h>
#include <gidlog/runtime.h>

using namespace std::chrono_literals;

namespace {

// Counts jobs running at once and the most ever seen; a job calls run() as its body.
struct concurrency_probe {
  std::atomic<int> now{0}, peak{0}, done{0};
  void run() {
    const int n = now.fetch_add(1) + 1;
    int p = peak.load();
    while (n > p && !peak.compare_exchange_weak(p, n)) {
    }
    std::this_thread::yield();
    now.fetch_sub(1);
    done.fetch_add(1);
  }
};

}  // namespace

TEST_CASE("limiter: a limit of 3 never runs more than 3 jobs at once across 200 go calls from 8 threads", "[limiter]") {
  gidlog::limiter lim("three", 3);
  concurrency_probe probe;
  std::vector<std::thread> callers;
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&, t] {
      for (int i = t; i < 200; i += 8) lim.go([&] { probe.run(); });
    });
  }
  for (auto& c : callers) c.join();
  lim.wait();
  CHECK(probe.done == 200);
  CHECK(probe.peak <= 3);
  CHECK(probe.peak >= 1);
  CHECK(lim.in_flight() == 0);
  CHECK(lim.waiting() == 0);
}

TEST_CASE("limiter: admits waiters in FIFO order", "[limiter]") {
  gidlog::limiter lim("fifo", 1);
  auto held = lim.acquire();
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread> callers;
  constexpr int n = 6;
  for (int i = 0; i < n; ++i) {
    callers.emplace_back([&, i] {
      lim.go([&, i] {
        std::lock_guard g(mu);
        order.push_back(i);
      });
    });
    while (lim.waiting() != static_cast<std::size_t>(i + 1)) std::this_thread::yield();  // i is queued
  }
  // A newcomer must not barge past the queue.
  CHECK_FALSE(lim.try_go([] {}));
  CHECK_FALSE(lim.try_acquire());
  held.release();
  for (auto& c : callers) c.join();
  lim.wait();
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("limiter: tokens come back after exceptions", "[limiter]") {
  gidlog::limiter lim("throws", 2);
  for (int i = 0; i < 10; ++i) lim.go([] { throw std::runtime_error("job failed"); });
  lim.wait();
  CHECK(lim.in_flight() == 0);
  auto a = lim.try_acquire();
  auto b = lim.try_acquire();
  CHECK(a);
  CHECK(b);
  CHECK_FALSE(lim.try_acquire());
  {
    auto moved = std::move(a);
    CHECK(lim.in_flight() == 2);
  }
  CHECK(lim.in_flight() == 1);
}

TEST_CASE("limiter: try_go and go_for give up when no token is free", "[limiter]") {
  gidlog::limiter lim("busy", 1);
  std::latch gate(1);
  std::latch started(1);
  lim.go([&] {
    started.count_down();
    gate.wait();
  });
  started.wait();
  std::atomic<int> ran{0};
  CHECK_FALSE(lim.try_go([&ran] { ++ran; }));
  CHECK_FALSE(lim.go_for([&ran] { ++ran; }, 10ms));
  CHECK_FALSE(lim.try_acquire_for(5ms));
  CHECK(lim.waiting() == 0);
  gate.count_down();
  lim.wait();
  CHECK(lim.go_for([&ran] { ++ran; }, 10s));
  lim.wait();
  CHECK(ran == 1);
}

TEST_CASE("limiter: set_limit admits waiters at once", "[limiter]") {
  gidlog::limiter lim("grow", 1);
  auto held = lim.acquire();
  std::latch both_ran(2);
  std::vector<std::thread> callers;
  for (int i = 0; i < 2; ++i) {
    callers.emplace_back([&] { lim.go([&] { both_ran.count_down(); }); });
  }
  while (lim.waiting() != 2) std::this_thread::yield();
  lim.set_limit(3);  // held token plus two waiters
  both_ran.wait();
  for (auto& c : callers) c.join();
  lim.wait();
  CHECK(lim.limit() == 3);
  CHECK(lim.in_flight() == 1);
  CHECK_THROWS_AS(lim.set_limit(0), std::invalid_argument);
  CHECK_THROWS_AS(gidlog::limiter("zero", 0), std::invalid_argument);
}

TEST_CASE("limiter: can run its jobs on a worker_pool", "[limiter]") {
  gidlog::worker_pool pool("lim-pool", 4);
  gidlog::limiter lim("on-pool", 2, {.pool = &pool});
  concurrency_probe probe;
  for (int i = 0; i < 100; ++i) {
    lim.go([&] {
      probe.run();
      if (probe.done.load() % 10 == 0) throw std::runtime_error("every tenth");
    });
  }
  lim.wait();
  CHECK(probe.done == 100);
  CHECK(probe.peak <= 2);
  CHECK(lim.in_flight() == 0);
  CHECK(pool.stats().failed == 0);  // the limiter caught them
}

TEST_CASE("limiter: wait from one of its own jobs throws would_deadlock", "[limiter]") {
  gidlog::limiter lim("self-wait", 2);
  std::atomic<bool> threw{false};
  lim.go([&] {
    try {
      lim.wait();
    } catch (const gidlog::would_deadlock&) {
      threw = true;
    }
  });
  lim.wait();
  CHECK(threw);
}
