// gidlog::tasks and the leak check: count, profiles, the Go example's leak.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <latch>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>

#include <catch2/catch.hpp>

#include <gidlog/gidlog.h>
#include <gidlog/runtime.h>
#include <gidlog/testing/catch2.h>

using namespace std::chrono_literals;

namespace {

// Go's unbuffered channel, enough for the leak: send blocks until a receiver takes the value or
// the channel is closed.
template <class T>
class rendezvous {
 public:
  bool send(T v) {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [this] { return !slot_ || closed_; });
    if (closed_) return false;
    slot_ = std::move(v);
    const std::uint64_t ticket = ++puts_;
    cv_.notify_all();
    cv_.wait(lk, [&] { return takes_ >= ticket || closed_; });  // until this value is received
    return takes_ >= ticket;
  }
  T receive() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [this] { return slot_.has_value(); });
    T v = std::move(*slot_);
    slot_.reset();
    ++takes_;
    cv_.notify_all();
    return v;
  }
  void close() {
    std::lock_guard g(mu_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<T> slot_;
  std::uint64_t puts_ = 0;
  std::uint64_t takes_ = 0;
  bool closed_ = false;
};

int leak_line = 0;

// The Go example: three jobs race to send, the caller takes the first answer and returns.
int first_of_three(gidlog::limiter& lim, rendezvous<int>& ch) {
  for (int i = 0; i < 3; ++i) {
    leak_line = __LINE__ + 1;
    lim.go([&ch, i] { ch.send(i); });
  }
  return ch.receive();
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::size_t occurrences(const std::string& s, const std::string& part) {
  std::size_t n = 0;
  for (auto p = s.find(part); p != std::string::npos; p = s.find(part, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("tasks: count returns to its starting value", "[tasks]") {
  const std::size_t before = gidlog::tasks::count();
  {
    gidlog::worker_pool pool("count", 2);
    std::latch gate(1);
    std::vector<gidlog::task<void>> ts;
    for (int i = 0; i < 10; ++i) ts.push_back(pool.submit([&gate] { gate.wait(); }));
    CHECK(gidlog::tasks::count() == before + 10);
    gate.count_down();
    for (auto& t : ts) t.get();
    CHECK(gidlog::tasks::count() == before);
    gidlog::limiter lim("count", 2);
    for (int i = 0; i < 5; ++i) lim.go([] {});
    lim.wait();
    CHECK(gidlog::tasks::count() == before);
  }
  CHECK(gidlog::tasks::count() == before);
}

TEST_CASE("tasks: profile groups by owner, state and site, largest first", "[tasks]") {
  gidlog::worker_pool pool("prof", 1);
  std::latch started(1), gate(1);
  const int running_line = __LINE__ + 1;
  auto r = pool.submit([&] { started.count_down(); gate.wait(); });
  started.wait();
  std::vector<gidlog::task<int>> q;
  int queued_line = 0;
  for (int i = 0; i < 3; ++i) {
    queued_line = __LINE__ + 1;
    q.push_back(pool.submit([] { return 1; }));
  }
  const std::string p1 = gidlog::tasks::profile(1);
  INFO(p1);
  CHECK(contains(p1, "task profile: total "));
  const auto three = p1.find("3 @ pool \"prof\" [queued]\n#\tcreated at ");
  const auto one = p1.find("1 @ pool \"prof\" [running]\n#\tcreated at ");
  CHECK(three != std::string::npos);
  CHECK(one != std::string::npos);
  CHECK(three < one);
  CHECK(contains(p1, "test_tasks.cpp:" + std::to_string(queued_line) + " in "));
  CHECK(contains(p1, "test_tasks.cpp:" + std::to_string(running_line) + " in "));

  const std::string p2 = gidlog::tasks::profile(2);
  INFO(p2);
  CHECK(contains(p2, "task " + std::to_string(r.id()) + " [running, "));
  CHECK(contains(p2, "task " + std::to_string(q[0].id()) + " [queued, "));
  CHECK(occurrences(p2, "\towner pool \"prof\", created by gid-" + std::to_string(gidlog::gid())) >= 4);
  CHECK(contains(p2, "running on gid-"));
  gate.count_down();
  r.get();
  for (auto& t : q) t.get();
}

TEST_CASE("tasks: the Go example's leak is reported with the creation site of the blocked jobs", "[tasks]") {
  rendezvous<int> ch;
  gidlog::limiter lim("fanout", 3);
  auto snap = gidlog::leak_snapshot::take();
  const int first = first_of_three(lim, ch);
  CHECK(first >= 0);
  CHECK(first < 3);
  const std::string report = gidlog::find_leaks(snap, 100ms);
  INFO(report);
  CHECK(report.rfind("found unexpected tasks:\n", 0) == 0);
  CHECK(occurrences(report, "[running, ") == 2);
  CHECK(occurrences(report, "test_tasks.cpp:" + std::to_string(leak_line) + " in ") == 2);
  CHECK(occurrences(report, "owner limiter \"fanout\"") == 2);
  const std::string p1 = gidlog::tasks::profile(1);
  CHECK(contains(p1, "2 @ limiter \"fanout\" [running]"));
  ch.close();  // unblock the two senders so the test ends
  lim.wait();
  GIDLOG_CHECK_NO_LEAKS(snap);
}

TEST_CASE("tasks: a clean run reports no leak", "[tasks]") {
  auto snap = gidlog::leak_snapshot::take();
  {
    gidlog::worker_pool pool("clean", 2);
    std::vector<gidlog::task<int>> ts;
    for (int i = 0; i < 100; ++i) ts.push_back(pool.submit([i] { return i; }));
    for (auto& t : ts) t.get();
    pool.post([] {});
    gidlog::limiter lim("clean", 2);
    lim.go([] {});
  }
  CHECK(gidlog::find_leaks(snap, 1s).empty());
  GIDLOG_REQUIRE_NO_LEAKS(snap, 1s);
}

TEST_CASE("tasks: registration can be switched off", "[tasks]") {
  REQUIRE(gidlog::tasks::registration());
  const std::size_t before = gidlog::tasks::count();
  gidlog::tasks::set_registration(false);
  {
    gidlog::worker_pool pool("unregistered", 1);
    std::latch gate(1);
    auto t = pool.submit([&gate] { gate.wait(); });
    CHECK(gidlog::tasks::count() == before);
    gate.count_down();
    t.get();
  }
  gidlog::tasks::set_registration(true);
  gidlog::worker_pool off({.name = "off", .threads = 1, .register_tasks = false});
  std::latch gate(1);
  auto t = off.submit([&gate] { gate.wait(); });
  CHECK(gidlog::tasks::count() == before);
  gate.count_down();
  t.get();
}

TEST_CASE("tasks: the registry shows callers waiting for a limiter token", "[tasks]") {
  gidlog::limiter lim("tokens", 1);
  auto held = lim.acquire();
  std::thread caller([&lim] { lim.go([] {}); });
  bool seen = false;
  while (!seen) {
    for (const auto& t : gidlog::tasks::list()) {
      seen = seen || (t.owner == "limiter \"tokens\"" && t.state == gidlog::task_state::waiting_for_token);
    }
    std::this_thread::yield();
  }
  CHECK(contains(gidlog::tasks::profile(1), "1 @ limiter \"tokens\" [waiting for token]"));
  held.release();
  caller.join();
  lim.wait();
}

TEST_CASE("tasks: the leak check can require new threads to have exited", "[tasks]") {
  // Sanitizer runtimes start a helper thread with the process's first pthread_create: let that
  // happen before the snapshot.
  std::thread([] {}).join();
  auto snap = gidlog::leak_snapshot::take();
  {
    gidlog::worker_pool pool("threads", 2);
    pool.run([] {});
    gidlog::limiter lim("threads", 2);
    lim.go([] {});
  }  // every worker and go thread joined
  GIDLOG_CHECK_NO_LEAKS(snap, gidlog::leak_options{.timeout = 1s, .threads = true});

  std::latch release(1);
  std::latch named(1);
  std::thread stray([&] {
    pthread_setname_np(pthread_self(), "stray-thread");
    named.count_down();
    release.wait();
  });
  named.wait();
  const std::string report = gidlog::find_leaks(snap, {.timeout = 60ms, .threads = true});
  CHECK(report.rfind("found unexpected threads:\nthread gid-", 0) == 0);
  CHECK(contains(report, " [stray-thread]"));
  CHECK(gidlog::find_leaks(snap, 60ms).empty());  // tasks only: a raw thread is not a task
  release.count_down();
  stray.join();
  CHECK(gidlog::find_leaks(snap, {.timeout = 1s, .threads = true}).empty());
}
