// The logger's lifecycle the way production exercises it, each scenario in a child process
// (tests/support/child_process.h): restart while threads log, order across exit, thread_local
// and static destructors, fork() then start() in the child (exit or LOG_FATAL with a stdout
// nobody reads: lifecycle_stalled_stdout.cpp). The parent reads the file the child left, its
// stderr and its wait status.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gidlog/gidlog.h>

#include "child_process.h"
#include "log_capture.h"
#include "log_lines.h"
#include "sinks_json_lines.h"  // slow_build()

using gidlog_test::child_env;
using gidlog_test::log_record;
using gidlog_test::run_child;

namespace {

gidlog::options file_options(bool truncate) {
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(child_env("GIDLOG_TEST_LOG"), {.truncate = truncate})};
  return opt;
}

// Reads a log whose messages are "<tag> <number>", line by line (the restart test's file holds
// about a million lines: no copy of it is kept), grouping the numbers by tag with their line.
struct numbered {
  struct entry {
    std::size_t line;
    long n;
  };
  std::map<std::string, std::vector<entry>> by_tag;
  std::size_t lines = 0;
  std::size_t malformed = 0;
  std::string first_malformed;
  std::vector<std::string> last_lines;  // the file's end, for failure messages

  explicit numbered(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::string text;
    constexpr std::size_t tail = 20;
    for (; std::getline(in, text); ++lines) {
      if (last_lines.size() == tail) last_lines.erase(last_lines.begin());
      last_lines.push_back(text);
      log_record l = gidlog_test::parse_log_line(text);
      auto sp = l.message.rfind(' ');
      bool ok = l.is_record && sp != std::string::npos && sp + 1 < l.message.size();
      long n = 0;
      if (ok) {
        char* end = nullptr;
        n = std::strtol(l.message.c_str() + sp + 1, &end, 10);
        ok = *end == '\0';
      }
      if (!ok) {
        if (malformed++ == 0) first_malformed = text;
        continue;
      }
      by_tag[l.message.substr(0, sp)].push_back({lines, n});
    }
  }

  // "" when the numbers of `tag` are 0, 1, ... count-1 in file order; else the first thing wrong
  // (count < 0: any count, but no gap, duplicate or reordering).
  std::string sequence_error(const std::string& tag, long count) const {
    auto it = by_tag.find(tag);
    const std::vector<entry> none;
    const std::vector<entry>& v = it == by_tag.end() ? none : it->second;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i].n != static_cast<long>(i))
        return tag + ": file line " + std::to_string(v[i].line + 1) + " has " + std::to_string(v[i].n) + " where " +
               std::to_string(i) + " was expected";
    }
    if (count >= 0 && static_cast<long>(v.size()) != count)
      return tag + ": " + std::to_string(v.size()) + " records, " + std::to_string(count) + " expected";
    return "";
  }
  long count(const std::string& tag) const {
    auto it = by_tag.find(tag);
    return it == by_tag.end() ? 0 : static_cast<long>(it->second.size());
  }
  std::size_t first_line(const std::string& tag) const {
    auto it = by_tag.find(tag);
    return it == by_tag.end() || it->second.empty() ? SIZE_MAX : it->second.front().line;
  }
  std::size_t last_line(const std::string& tag) const {
    auto it = by_tag.find(tag);
    return it == by_tag.end() || it->second.empty() ? 0 : it->second.back().line;
  }
  long value(const std::string& tag) const {  // the number of a tag logged once
    auto it = by_tag.find(tag);
    return it == by_tag.end() || it->second.size() != 1 ? -1 : it->second.front().n;
  }
  std::string tail() const {
    std::string t;
    for (const std::string& l : last_lines) t += l + "\n";
    return t;
  }
};

struct child_log {
  gidlog_test::child_result r;
  numbered n;
};

child_log run_with_log(const std::string& scenario, std::chrono::milliseconds deadline = std::chrono::seconds(120)) {
  std::string path = gidlog_test::temp_path(scenario + ".log");
  ::unlink(path.c_str());
  auto r = run_child(scenario, {.env = {"GIDLOG_TEST_LOG=" + path}, .deadline = deadline});
  child_log out{std::move(r), numbered(path)};
  ::unlink(path.c_str());
  return out;
}

}  // namespace

// ---- restart while threads log -------------------------------------------------------------------

namespace {
constexpr int restart_threads = 4;
constexpr int restarts = 100;
}  // namespace

GIDLOG_CHILD_SCENARIO(restart_100) {
  gidlog::options opt = file_options(false);  // append: every start() reopens the same file
  opt.queue_capacity = 4096;                  // producers block now and then across restarts
  gidlog::start(opt);
  std::atomic<long> logged[restart_threads] = {};
  std::atomic<bool> done{false}, restarting{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < restart_threads; ++t) {
    pool.emplace_back([t, &logged, &done, &restarting] {
      long i = 0;
      for (; !done.load(std::memory_order_acquire); ++i) {
        LOG_INFO("r{} {}", t, i);
        logged[t].store(i + 1, std::memory_order_release);
        // Full speed from stop() to the end of start(), where order breaks (threads switching
        // to the synchronous path and back, contending for the sinks); elsewhere they yield now
        // and then, which saves some of the file's million lines.
        if (i % 64 == 63 && !restarting.load(std::memory_order_relaxed)) std::this_thread::yield();
      }
    });
  }
  // Waits until every thread has logged at least one more record: each phase (running, stopped)
  // sees records from every thread, without sleeping.
  auto every_thread_logs = [&logged] {
    long seen[restart_threads];
    for (int t = 0; t < restart_threads; ++t) seen[t] = logged[t].load(std::memory_order_acquire);
    for (int t = 0; t < restart_threads; ++t)
      while (logged[t].load(std::memory_order_acquire) <= seen[t]) std::this_thread::yield();
  };
  for (int k = 0; k < restarts; ++k) {
    every_thread_logs();
    restarting.store(true, std::memory_order_relaxed);
    gidlog::stop();
    every_thread_logs();  // synchronously, to the sinks of the last start()
    opt.sinks = {gidlog::file_sink(child_env("GIDLOG_TEST_LOG"))};
    gidlog::start(opt);
    restarting.store(false, std::memory_order_relaxed);
  }
  done.store(true, std::memory_order_release);
  for (auto& th : pool) th.join();
  for (int t = 0; t < restart_threads; ++t) LOG_INFO("count-r{} {}", t, logged[t].load());
  gidlog::stop();
  return 0;
}

// Catches: records lost or reordered across stop()/start() (a record logged synchronously after
// stop() written before the same thread's records still queued, a token left on the old
// generation), and, under ASan, the old backend state freed while a synchronous writer still uses
// it. Must pass in build/h4-asan too.
TEST_CASE("stop() then start(), 100 times while 4 threads log: nothing lost, per-thread order",
          "[lifecycle][restart]") {
  auto c = run_with_log("restart_100", std::chrono::seconds(240));
  const numbered& n = c.n;
  INFO("child " << c.r.describe());
  INFO(n.lines << " lines; the last:\n" << n.tail());
  CHECK(c.r.exited_with(0));
  INFO("first malformed line: " << n.first_malformed);
  CHECK(n.malformed == 0);
  for (int t = 0; t < restart_threads; ++t) {
    long count = n.value("count-r" + std::to_string(t));
    INFO("thread " << t << " logged " << count);
    CHECK(count > restarts);
    CHECK(n.sequence_error("r" + std::to_string(t), count) == "");
  }
}

// ---- order across exit ----------------------------------------------------------------------------

namespace {

// Logs 10 records "<tag>-tl N" when its thread ends (if given a tag).
struct thread_end_logger {
  const char* tag = nullptr;
  ~thread_end_logger() {
    if (tag == nullptr) return;
    for (int i = 0; i < 10; ++i) LOG_INFO("{}-tl {}", tag, i);
  }
};
thread_local thread_end_logger tl_end_logger;

}  // namespace

GIDLOG_CHILD_SCENARIO(thread_local_dtor) {
  gidlog::start(file_options(true));
  // a: the thread_local is constructed before the thread's first LOG_*, so it is destroyed after
  // whatever thread_local state the logger creates on that first call.
  std::thread a([] {
    tl_end_logger.tag = "a";
    for (int i = 0; i < 2000; ++i) LOG_INFO("a {}", i);
  });
  // b: constructed after the first LOG_*, destroyed before the logger's state.
  std::thread b([] {
    LOG_INFO("b {}", 0);
    tl_end_logger.tag = "b";
    for (int i = 1; i < 2000; ++i) LOG_INFO("b {}", i);
  });
  a.join();
  b.join();
  // The main thread's thread_locals are destroyed inside exit(), before stop() runs.
  tl_end_logger.tag = "m";
  for (int i = 0; i < 2000; ++i) LOG_INFO("m {}", i);
  return 0;
}

// Catches: a thread_local destructor's records taking the synchronous path (the thread's producer
// already released) and landing before the thread's own records still in the queue.
TEST_CASE("a thread_local destructor's records come after the thread's earlier records", "[lifecycle][exit]") {
  auto c = run_with_log("thread_local_dtor");
  const numbered& n = c.n;
  INFO("child " << c.r.describe());
  INFO("last lines:\n" << n.tail());
  CHECK(c.r.exited_with(0));
  INFO("first malformed line: " << n.first_malformed);
  CHECK(n.malformed == 0);
  for (std::string t : {"a", "b", "m"}) {
    INFO("thread " << t);
    CHECK(n.sequence_error(t, 2000) == "");
    CHECK(n.sequence_error(t + "-tl", 10) == "");
    CHECK(n.last_line(t) < n.first_line(t + "-tl"));
  }
}

namespace {
thread_local volatile unsigned g_pace = 0;  // per thread: busy work, not a shared counter
}  // namespace

GIDLOG_CHILD_SCENARIO(threads_at_exit) {
  gidlog::start(file_options(true));
  constexpr int threads = 4;
  static std::atomic<long> logged[threads];  // static: the threads outlive main's frame
  // Each thread stops at a cap and parks, so a hang cannot fill the disk (a flooding run once
  // left 8 GB). main returns long before any thread gets there.
  constexpr long cap = 500000;
  for (int t = 0; t < threads; ++t) {
    std::thread([t] {
      for (long i = 0; i < cap; ++i) {
        LOG_INFO("w{} {}", t, i);
        logged[t].store(i + 1, std::memory_order_release);
        // Some work between records: four threads flooding a full queue on two cores can starve
        // one of them for seconds (seen: 2816 records against 500000), and then main would
        // return after the others had stopped at the cap. Not a yield: the threads must be busy
        // logging, not parked, when main returns.
        for (int k = 0; k < 512; ++k) g_pace = g_pace + 1;
      }
      for (;;) ::pause();
    }).detach();
  }
  // Until every thread has logged 1000 records; at most 30 s: a thread starved that long shows in
  // the parent as fewer than 1000 before main returned.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int t = 0; t < threads; ++t)
    while (logged[t].load(std::memory_order_acquire) < 1000 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::yield();
  for (int i = 0; i < 2000; ++i) LOG_INFO("m {}", i);
  // Returns right after seeing every thread make progress, so they are busy logging while exit()
  // runs stop(), not parked in a yield.
  long seen[threads];
  for (int t = 0; t < threads; ++t) seen[t] = logged[t].load(std::memory_order_acquire);
  for (int t = 0; t < threads; ++t)
    while (logged[t].load(std::memory_order_acquire) == seen[t] && std::chrono::steady_clock::now() < give_up)
      std::this_thread::yield();
  for (int t = 0; t < threads; ++t) LOG_INFO("at-return-w{} {}", t, logged[t].load(std::memory_order_acquire));
  return 0;  // exit() runs stop() while the four threads keep logging
}

// Catches: exit's stop() hanging while threads still log (the parent kills it after 120 s),
// records lost before main returned, per-thread order broken when threads switch from the queue to
// the synchronous path during exit, torn lines.
TEST_CASE("threads still logging when main returns: per-thread order for every line", "[lifecycle][exit]") {
  auto c = run_with_log("threads_at_exit");
  const numbered& n = c.n;
  INFO("child " << c.r.describe());
  INFO("last lines:\n" << n.tail());
  CHECK(c.r.exited_with(0));
  INFO("first malformed line: " << n.first_malformed);
  CHECK(n.malformed == 0);
  CHECK(n.sequence_error("m", 2000) == "");
  for (int t = 0; t < 4; ++t) {
    std::string tag = "w" + std::to_string(t);
    long before_return = n.value("at-return-" + tag);
    INFO("thread " << t << ": " << n.count(tag) << " lines in the file, " << before_return
                   << " logged before main returned");
    CHECK(n.sequence_error(tag, -1) == "");  // every line of the thread in order, no gap, no duplicate
    CHECK(before_return >= 1000);
    CHECK(n.count(tag) >= before_return);   // nothing logged before main returned is lost
  }
}

// Lines of 3 KiB: most synchronous writes after exit's stop() cross a page of the file, where the
// kernel stops a write(2) whose process is ending. Four threads write them while main returns.
GIDLOG_CHILD_SCENARIO(long_lines_at_exit) {
  gidlog::start(file_options(true));
  constexpr int threads = 4;
  constexpr long cap = 5000;  // then park: a hang cannot fill the disk
  static std::atomic<long> logged[threads];
  for (int t = 0; t < threads; ++t) {
    std::thread([t] {
      const std::string tag = "long" + std::to_string(t) + "-" + std::string(3000, '.');
      for (long i = 0; i < cap; ++i) {
        LOG_INFO("{} {}", tag, i);
        logged[t].store(i + 1, std::memory_order_release);
      }
      for (;;) ::pause();
    }).detach();
  }
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int t = 0; t < threads; ++t)
    while (logged[t].load(std::memory_order_acquire) < 100 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::yield();
  return 0;  // exit() runs stop(); the threads go on writing synchronously until the process ends
}

// Catches: the process ending while another thread's synchronous write is under way (the file
// ends in half a line: seen once in a few hundred runs of the test above with short lines).
TEST_CASE("threads writing 3 KiB lines when main returns: the file never ends in half a line, in each of many children",
          "[lifecycle][exit]") {
  const int runs = gidlog_test::slow_build() ? 10 : 30;  // under TSan each exit takes 1 s more
  for (int run = 0; run < runs; ++run) {
    const std::string path = gidlog_test::temp_path("long_lines_at_exit.log");
    ::unlink(path.c_str());
    auto r = run_child("long_lines_at_exit", {.env = {"GIDLOG_TEST_LOG=" + path}});
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const numbered n(path);
    ::unlink(path.c_str());
    INFO("run " << run << ", child " << r.describe() << ", " << text.size() << " bytes, " << n.lines << " lines");
    INFO("the file's last 120 bytes: " << text.substr(text.size() > 120 ? text.size() - 120 : 0));
    REQUIRE(r.exited_with(0));
    REQUIRE_FALSE(text.empty());
    CHECK(text.back() == '\n');
    CHECK(n.malformed == 0);
    for (int t = 0; t < 4; ++t) {
      const std::string tag = "long" + std::to_string(t) + "-" + std::string(3000, '.');
      INFO("thread " << t);
      CHECK(n.sequence_error(tag, -1) == "");
      CHECK(n.count(tag) >= 100);
    }
  }
}

namespace {

// Logs 10 records "<tag> N" when destroyed (if armed).
struct static_end_logger {
  const char* tag;
  bool armed = false;
  ~static_end_logger() {
    if (!armed) return;
    for (int i = 0; i < 10; ++i) LOG_INFO("{} {}", tag, i);
  }
};
// Constructed before main, so destroyed after the stop() that start() registered with atexit:
// its records take the synchronous path after everything queued was drained.
static_end_logger g_static_before_start{"static-before"};

}  // namespace

GIDLOG_CHILD_SCENARIO(static_dtor) {
  gidlog::start(file_options(true));
  g_static_before_start.armed = true;
  // Constructed after start(), so destroyed before stop() at exit: its records are queued.
  static static_end_logger after_start{"static-after"};
  after_start.armed = true;
  for (int i = 0; i < 2000; ++i) LOG_INFO("m {}", i);
  return 0;
}

// Catches: records of static destructors lost (logged after stop() and never written) or written
// before main's burst still queued.
TEST_CASE("static destructors' records come after main's burst", "[lifecycle][exit]") {
  auto c = run_with_log("static_dtor");
  const numbered& n = c.n;
  INFO("child " << c.r.describe());
  INFO("last lines:\n" << n.tail());
  CHECK(c.r.exited_with(0));
  INFO("first malformed line: " << n.first_malformed);
  CHECK(n.malformed == 0);
  CHECK(n.sequence_error("m", 2000) == "");
  CHECK(n.sequence_error("static-after", 10) == "");
  CHECK(n.sequence_error("static-before", 10) == "");
  CHECK(n.last_line("m") < n.first_line("static-after"));
  CHECK(n.last_line("static-after") < n.first_line("static-before"));
}

// ---- fork() then start() in the child -------------------------------------------------------------

namespace {

constexpr int parent_records = 10000;
constexpr int child_records = 100;

// Runs in the fork() child: its own logger on its own file.
[[noreturn]] void forked_child_body() {
  try {
    gidlog::options opt;
    opt.sinks = {gidlog::file_sink(child_env("GIDLOG_TEST_CHILD_LOG"), {.truncate = true})};
    gidlog::start(opt);
    for (int i = 0; i < child_records; ++i) LOG_INFO("child {}", i);
    gidlog::stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fork child: %s\n", e.what());
    std::_Exit(3);
  }
  // Not exit(): under ASan its leak check would report what the parent's backend thread (absent
  // here) had allocated, which a fork child can never free.
  std::_Exit(0);
}

// Waits for the fork() child at most `limit`: its exit status, 90 if it hung (then killed), 100+N
// if signal N ended it.
int fork_child_result(pid_t pid, std::chrono::seconds limit) {
  auto status = gidlog_test::wait_child_for(pid, limit);
  if (!status) {
    std::fprintf(stderr, "the fork child hung and was killed\n");
    return 90;
  }
  if (WIFEXITED(*status)) return WEXITSTATUS(*status);
  if (WIFSIGNALED(*status)) return 100 + WTERMSIG(*status);
  return 90;
}

// The parent side: logs `parent_records` that stay queued, forks, waits for the child (at most
// 30 s), then lets its own backend finish. Exit status: the child's, 90 if it hung, 100+signal.
int fork_scenario(bool stalled_sink) {
  gidlog::options opt = file_options(true);
  auto stall = std::make_shared<gidlog_test::test_sink>();
  if (stalled_sink) {
    stall->stall();
    opt.sinks.insert(opt.sinks.begin(), stall);  // the backend blocks in it on the first record
  } else {
    opt.backend_sleep = std::chrono::milliseconds(100);  // most records still queued at fork
  }
  gidlog::start(opt);
  for (int i = 0; i < parent_records; ++i) LOG_INFO("parent {}", i);
  if (stalled_sink)
    while (stall->attempts() == 0) std::this_thread::yield();  // the backend is inside the sink
  pid_t pid = ::fork();
  if (pid == 0) forked_child_body();
  const int rc = fork_child_result(pid, std::chrono::seconds(30));
  stall->release();
  gidlog::stop();
  return rc;
}

void check_fork(const std::string& scenario) {
  std::string parent_path = gidlog_test::temp_path(scenario + ".parent.log");
  std::string child_path = gidlog_test::temp_path(scenario + ".child.log");
  ::unlink(parent_path.c_str());
  ::unlink(child_path.c_str());
  auto r = run_child(scenario, {.env = {"GIDLOG_TEST_LOG=" + parent_path, "GIDLOG_TEST_CHILD_LOG=" + child_path},
                                .deadline = std::chrono::seconds(60)});
  numbered p(parent_path), c(child_path);
  ::unlink(parent_path.c_str());
  ::unlink(child_path.c_str());
  INFO("process " << r.describe() << " (exit 90: the fork child hung; 100+N: it died by signal N)");
  INFO("fork child's file, " << c.lines << " lines; the last:\n" << c.tail());
  CHECK(r.exited_with(0));
  CHECK(c.malformed == 0);
  CHECK(c.count("parent") == 0);  // the parent's queued records leaked into the child's file
  CHECK(c.sequence_error("child", child_records) == "");
  CHECK(p.malformed == 0);
  CHECK(p.count("child") == 0);
  CHECK(p.sequence_error("parent", parent_records) == "");  // the parent's own file is whole, once
}

}  // namespace

// fork() at once after start(): the parent's new backend thread is still starting (registering
// itself in the table of thread origins) while the child starts its own. Exit status as above.
GIDLOG_CHILD_SCENARIO(fork_at_start) {
  gidlog::options opt = file_options(true);
  gidlog::start(opt);
  pid_t pid = ::fork();
  if (pid == 0) forked_child_body();
  const int rc = fork_child_result(pid, std::chrono::seconds(20));
  LOG_INFO("parent {}", 0);
  gidlog::stop();
  return rc;
}

GIDLOG_CHILD_SCENARIO(fork_stalled_sink) { return fork_scenario(true); }
GIDLOG_CHILD_SCENARIO(fork_queued) { return fork_scenario(false); }

// Catches: the child's new backend draining the queue it inherited (the parent's records in the
// child's file), and fork() itself deadlocking on a lock the stalled backend holds while it is
// inside a sink (the parent process then hangs: exit 90 or a timeout).
TEST_CASE("fork() with a stalled sink, start() in the child: the child's file has only its records",
          "[lifecycle][fork]") {
  check_fork("fork_stalled_sink");
}

// Catches: the fork child inheriting a lock or a first-use initialisation that the parent's
// backend thread held as it started (the child's backend then waited for it forever: its stop()
// gave up after 5 s with every record unwritten). Once in about a thousand runs of the test below
// under load; here every process forks at once after start(), many times.
TEST_CASE("fork() at once after start(), in each of many processes: the child's own logger writes all its records",
          "[lifecycle][fork]") {
  const int runs = gidlog_test::slow_build() ? 30 : 100;
  for (int run = 0; run < runs; ++run) {
    std::string parent_path = gidlog_test::temp_path("fork_at_start.parent.log");
    std::string child_path = gidlog_test::temp_path("fork_at_start.child.log");
    ::unlink(child_path.c_str());
    auto r = run_child("fork_at_start", {.env = {"GIDLOG_TEST_LOG=" + parent_path, "GIDLOG_TEST_CHILD_LOG=" + child_path},
                                        .deadline = std::chrono::seconds(60)});
    numbered p(parent_path), c(child_path);
    ::unlink(parent_path.c_str());
    ::unlink(child_path.c_str());
    INFO("run " << run << ", process " << r.describe() << " (exit 90: the fork child hung; 100+N: it died by signal N)");
    INFO("fork child's file, " << c.lines << " lines; the last:\n" << c.tail());
    REQUIRE(r.exited_with(0));
    REQUIRE(c.sequence_error("child", child_records) == "");
    REQUIRE(c.malformed == 0);
    REQUIRE(p.sequence_error("parent", 1) == "");
  }
}

// The same without the stall, so fork() can proceed even where it takes the writer lock; the
// backend sleeps 100 ms between polls, so the parent's records are still queued at fork().
TEST_CASE("fork() with records queued, start() in the child: the child's file has only its records",
          "[lifecycle][fork]") {
  check_fork("fork_queued");
}
