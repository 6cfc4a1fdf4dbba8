// gidlog::threads: the profile finds threads blocked in read() on a pipe, in pthread_cond_wait,
// sleeping, spinning, and one with every signal blocked (listed as not answering), each with the
// right state word and a stack that names the function that blocked. Also: the profile formats,
// several threads profiling at once, the origin of a limiter's job thread, and thread-leak checks
// (a leaked std::thread is found with its stack).
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gidlog/gidlog.h>
#include <gidlog/testing/catch2.h>

#include "introspect_util.h"

using namespace std::chrono_literals;

namespace {

using gidlog_test::gate;

using gidlog_test::under_tsan;

// How long the threads have to answer a stack request. 200 ms (the default) was not always enough
// for a spinning thread with two CPU hogs and other tests running beside: it was listed as not
// answering. list() and profile() return as soon as every thread has answered; under
// ThreadSanitizer the thread in read() never answers (see below), so every call waits it out there.
const std::chrono::milliseconds answer_wait = under_tsan ? std::chrono::milliseconds(600) : std::chrono::milliseconds(5000);


std::atomic<long> g_sink{0};  // results the compiler must keep, so no blocking call is a tail call

// The functions the threads block in; their names must appear on the stacks.
[[gnu::noinline]] void block_in_read(int fd) {
  char c = 0;
  const ssize_t n = ::read(fd, &c, 1);
  g_sink.fetch_add(n, std::memory_order_relaxed);
}

[[gnu::noinline]] void block_in_cond_wait(gate& g) {
  g.wait();
  g_sink.fetch_add(1, std::memory_order_relaxed);
}

std::atomic<bool> g_stop_sleeping{false};

// Sleeps until woken by SIGUSR1 (its handler does nothing; nanosleep returns EINTR). A stack
// request interrupts the sleep too: it just sleeps again.
[[gnu::noinline]] void sleep_until_told() {
  while (!g_stop_sleeping.load()) {
    timespec ts{3600, 0};
    const int rc = ::nanosleep(&ts, nullptr);
    g_sink.fetch_add(rc, std::memory_order_relaxed);
  }
}

[[gnu::noinline]] void spin_until_told(const std::atomic<bool>& stop) {
  long n = 0;
  // steady_clock::now() gives ThreadSanitizer, which holds signals until its next interceptor,
  // a point to deliver the stack request at; natively it is a vDSO call. It is called once per
  // 4096 turns of the inner loop so that the thread spends its time here: qemu-user delivers a
  // signal at the start of the next translated block, and when now() was the whole loop, half of
  // the requests landed on libstdc++'s PLT stub for clock_gettime, which has no unwind
  // information on aarch64 (a one-frame stack, 6 of 12 runs under qemu).
  while (!stop.load(std::memory_order_relaxed)) {
    for (int i = 0; i < 4096 && !stop.load(std::memory_order_relaxed); ++i) n += i & 1;
    n += std::chrono::steady_clock::now().time_since_epoch().count() & 1;
  }
  g_sink.fetch_add(n, std::memory_order_relaxed);
}

void on_sigusr1(int) {}

// Five threads, each blocked (or spinning) in its own way, known by gid.
struct blocked_threads {
  int pipe_fds[2] = {-1, -1};
  gate cond_gate;
  gate masked_gate;
  std::atomic<bool> stop_spinning{false};
  std::atomic<std::uint32_t> reader{0}, waiter{0}, sleeper{0}, spinner{0}, masked{0};
  std::latch started{5};
  std::vector<std::thread> threads;
  pthread_t sleeper_handle{};
  bool ready = false;  // every thread reached its blocking call

  blocked_threads() {
    if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe");
    struct sigaction sa {};
    sa.sa_handler = on_sigusr1;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGUSR1, &sa, nullptr);
    g_stop_sleeping = false;
    threads.emplace_back([this] {
      reader = gidlog::gid();
      started.count_down();
      block_in_read(pipe_fds[0]);
    });
    threads.emplace_back([this] {
      waiter = gidlog::gid();
      started.count_down();
      block_in_cond_wait(cond_gate);
    });
    threads.emplace_back([this] {
      sleeper = gidlog::gid();
      started.count_down();
      sleep_until_told();
    });
    sleeper_handle = threads.back().native_handle();
    threads.emplace_back([this] {
      spinner = gidlog::gid();
      started.count_down();
      spin_until_told(stop_spinning);
    });
    threads.emplace_back([this] {
      sigset_t all;
      sigfillset(&all);
      ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
      masked = gidlog::gid();
      started.count_down();
      block_in_cond_wait(masked_gate);
    });
    started.wait();
    // Each has said it is about to block; wait until the kernel shows it there.
    ready = gidlog_test::wait_until_blocked(reader, "pipe_read", SYS_read) &&
            gidlog_test::wait_until_blocked(waiter, "futex", SYS_futex) &&
            gidlog_test::wait_until_blocked(sleeper, "nanosleep", SYS_clock_nanosleep) &&
            gidlog_test::wait_until_blocked(masked, "futex", SYS_futex);
  }

  ~blocked_threads() {
    (void)!::write(pipe_fds[1], "x", 1);
    cond_gate.release();
    masked_gate.release();
    stop_spinning = true;
    g_stop_sleeping = true;
    ::pthread_kill(sleeper_handle, SIGUSR1);
    for (std::thread& t : threads) t.join();
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
  }
};

}  // namespace

TEST_CASE("count() is the number of threads in /proc/self/task", "[threads]") {
  gidlog_test::start_runtime_helpers();
  // Other threads may come and go meanwhile (qemu-user runs threads of its own): count() is
  // compared with a listing taken just before and just after it, until the two agree.
  auto listing = [] {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
    return n;
  };
  auto count_matches_listing = [&] {
    for (int i = 0; i < 5000; ++i) {
      const std::size_t a = listing();
      const std::size_t c = gidlog::threads::count();
      if (a == listing()) return c == a;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  };
  auto listed = [](pid_t tid) { return std::filesystem::exists("/proc/self/task/" + std::to_string(tid)); };
  CHECK(count_matches_listing());
  gate g;
  std::atomic<pid_t> tid{0};
  std::thread t([&] {
    tid = static_cast<pid_t>(gidlog::gid());
    g.wait();
  });
  while (tid.load() == 0) std::this_thread::yield();
  CHECK(listed(tid.load()));
  CHECK(count_matches_listing());
  g.release();
  t.join();
  // A joined thread leaves /proc/self/task a moment after join() returns.
  for (int i = 0; i < 5000 && listed(tid.load()); ++i) std::this_thread::sleep_for(1ms);
  CHECK(!listed(tid.load()));
  CHECK(count_matches_listing());
}

TEST_CASE("list() finds each blocked thread with its state word and the function that blocked", "[threads]") {
  blocked_threads b;
  REQUIRE(b.ready);
  const std::vector<gidlog::threads::thread_info> all = gidlog::threads::list(answer_wait);
  CHECK(all.size() >= 6);
  CHECK(gidlog::threads::stack_signal() >= SIGRTMIN);

  struct expectation {
    std::uint32_t gid;
    const char* state;
    const char* function;
  };
  const expectation want[] = {
      {b.reader, "read", "block_in_read"},
      {b.waiter, "futex wait", "block_in_cond_wait"},
      {b.sleeper, "nanosleep", "sleep_until_told"},
      {b.spinner, "running", "spin_until_told"},
  };
  for (const expectation& w : want) {
    INFO("thread gid-" << w.gid << ", expected [" << w.state << "] in " << w.function);
    const gidlog::threads::thread_info* t = gidlog_test::find_thread(all, w.gid);
    REQUIRE(t != nullptr);
    INFO(gidlog::threads::describe({w.gid}, answer_wait));
    CHECK(t->state == w.state);
    if (under_tsan && w.gid == b.reader) {
      // ThreadSanitizer (LLVM 14) holds a signal for a thread until it leaves the interceptor
      // it is in, unless that interceptor is marked blocking; read() is not: no stack in time.
      CHECK(t->no_stack == "did not answer in time");
      continue;
    }
    CHECK(t->no_stack.empty());
    CHECK_SYMBOLIZED(gidlog_test::stack_names(*t, w.function));
  }
  // The stack of the blocking calls names the function with its source line (debug information).
  const gidlog::threads::thread_info* waiter = gidlog_test::find_thread(all, b.waiter);
  bool has_line = false;
  for (const auto& f : waiter->stack) {
    has_line = has_line || (f.function.find("block_in_cond_wait") != std::string::npos && f.line > 0 &&
                            f.file.find("introspect_threads.cpp") != std::string::npos);
  }
  CHECK_SYMBOLIZED(has_line);

  const gidlog::threads::thread_info* masked = gidlog_test::find_thread(all, b.masked);
  REQUIRE(masked != nullptr);
  CHECK(masked->state == "futex wait");
  CHECK(masked->stack.empty());
  CHECK_THAT(masked->no_stack, Catch::StartsWith("did not answer"));
}

TEST_CASE("profile(1) groups identical stacks under a total, profile(2) lists every thread", "[threads]") {
  gate g;
  std::latch started(3);
  std::vector<std::thread> same;
  std::vector<std::uint32_t> gids(3);
  for (int i = 0; i < 3; ++i) {
    same.emplace_back([&, i] {
      gids[static_cast<std::size_t>(i)] = gidlog::gid();
      started.count_down();
      block_in_cond_wait(g);
    });
  }
  started.wait();
  for (std::uint32_t gid : gids) REQUIRE(gidlog_test::wait_until_blocked(gid, "futex", SYS_futex));

  const std::string p1 = gidlog::threads::profile(1, answer_wait);
  INFO(p1);
  CHECK(std::regex_search(p1, std::regex("^thread profile: total [0-9]+\n")));
  // The three waiters share one group: "3 @ 0x... 0x..." then their gids, then the frames.
  CHECK(std::regex_search(p1, std::regex("\n3 @( 0x[0-9a-f]+)+\n#\t\\[futex wait\\] gid-[0-9]+ \"[^\"]*\", gid-[0-9]+")));
  CHECK_SYMBOLIZED(p1.find("block_in_cond_wait") != std::string::npos);

  const std::string p2 = gidlog::threads::profile(2, answer_wait);
  INFO(p2);
  for (std::uint32_t gid : gids) {
    CHECK(std::regex_search(p2, std::regex("(^|\n)thread " + std::to_string(gid) +
                                           " \"[^\"]*\" \\[futex wait, [0-9]+ [a-z]+, cpu [0-9]+ [a-z]+[^\n]*\\]:\n")));
  }
  // Inlined frames (gate::wait, condition_variable::wait) come first, each at its own line; the
  // function they are inlined in is at the line that calls them.
  CHECK_SYMBOLIZED(std::regex_search(p2, std::regex("gate::wait(\\(\\))?\n\t[^\n]*introspect_util\\.h:[0-9]+ \\+0x[0-9a-f]+\n"
                                         "\\(anonymous namespace\\)::block_in_cond_wait\\([^\n]*\n\t[^\n]*"
                                         "introspect_threads\\.cpp:[0-9]+ \\+0x")));
  g.release();
  for (std::thread& t : same) t.join();
}

TEST_CASE("several threads take profiles at once", "[threads]") {
  blocked_threads b;
  REQUIRE(b.ready);
  constexpr int callers = 4;
  std::vector<std::string> results(callers * 3);
  std::vector<std::thread> ts;
  for (int c = 0; c < callers; ++c) {
    ts.emplace_back([&, c] {
      for (int i = 0; i < 3; ++i) results[static_cast<std::size_t>(c * 3 + i)] = gidlog::threads::profile(1 + i % 2, answer_wait);
    });
  }
  for (std::thread& t : ts) t.join();
  for (const std::string& r : results) {
    INFO(r);
    CHECK((r.rfind("thread profile: total ", 0) == 0 || r.rfind("thread ", 0) == 0));
    CHECK_SYMBOLIZED(r.find("block_in_cond_wait") != std::string::npos);
    CHECK_SYMBOLIZED(r.find("spin_until_told") != std::string::npos);
  }
}

TEST_CASE("a thread that runs a limiter's job says who created it where", "[threads]") {
  gate g;
  std::latch running(1);
  std::atomic<std::uint32_t> job_gid{0};
  gidlog::limiter lim("origin-test", 1);
  const int line = __LINE__ + 1;
  lim.go([&] {
    job_gid = gidlog::gid();
    running.count_down();
    block_in_cond_wait(g);
  });
  running.wait();
  const std::string p2 = gidlog::threads::describe({job_gid.load()}, answer_wait);
  INFO(p2);
  CHECK(p2.find("running task ") != std::string::npos);
  CHECK(p2.find("of limiter \"origin-test\", created by gid-" + std::to_string(gidlog::gid()) + " at ") != std::string::npos);
  CHECK(p2.find("introspect_threads.cpp:" + std::to_string(line)) != std::string::npos);
  g.release();
  lim.wait();
}

namespace {
[[gnu::noinline]] void leaky_worker(gate& g) {
  block_in_cond_wait(g);
  g_sink.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

TEST_CASE("find_thread_leaks reports a leaked std::thread with its stack, then passes once it exits", "[threads]") {
  gidlog_test::start_runtime_helpers();
  const auto snap = gidlog::thread_snapshot::take();
  CHECK(gidlog::find_thread_leaks(snap, 0ms).empty());
  gate g;
  std::atomic<std::uint32_t> leaked{0};
  std::latch started(1);
  std::thread t([&] {
    leaked = gidlog::gid();
    started.count_down();
    leaky_worker(g);
  });
  started.wait();
  REQUIRE(gidlog_test::wait_until_blocked(leaked, "futex", SYS_futex));
  const std::string report = gidlog::find_thread_leaks(snap, 30ms);
  INFO(report);
  CHECK(report.rfind("found unexpected threads:\nthread " + std::to_string(leaked.load()) + " ", 0) == 0);
  CHECK_SYMBOLIZED(report.find("leaky_worker") != std::string::npos);
  CHECK(report.find("[futex wait") != std::string::npos);

  // Its name may be ignored.
  ::pthread_setname_np(t.native_handle(), "leak-ok-worker");
  CHECK(gidlog::find_thread_leaks(snap, 0ms, {"leak-ok"}).empty());

  g.release();
  t.join();
  GIDLOG_CHECK_NO_THREAD_LEAKS(snap, 5s);
}

TEST_CASE("find_thread_leaks waits for a thread that is about to exit", "[threads]") {
  gidlog_test::start_runtime_helpers();
  const auto snap = gidlog::thread_snapshot::take();
  static gate g;  // outlives the detached thread even when the check fails
  std::thread t([] { g.wait(); });
  t.detach();  // nobody joins it: only its exit can make the check pass
  g.release();
  GIDLOG_REQUIRE_NO_THREAD_LEAKS(snap, 5s);
}
