// What worker_pool and limiter log through the "gidlog.runtime" logger: TRACE records that carry
// the submitter's and the executor's gid, WARN for rejects, timeouts and slow jobs, ERROR for
// exceptions, and the runtime level set apart from the application's.
#include <algorithm>
#include <chrono>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <gidlog/gidlog.h>
#include <gidlog/runtime.h>

#include "log_capture.h"
#include "test_timing.h"

using namespace std::chrono_literals;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::vector<std::string> matching(const std::vector<std::string>& lines, const std::string& part) {
  std::vector<std::string> out;
  std::copy_if(lines.begin(), lines.end(), std::back_inserter(out), [&](const auto& l) { return contains(l, part); });
  return out;
}

std::string all(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// Restores the runtime level after a test changed it.
struct runtime_level_guard {
  gidlog::level saved = gidlog::runtime_log_level();
  ~runtime_level_guard() { gidlog::set_runtime_log_level(saved); }
};

}  // namespace

TEST_CASE("pool TRACE records carry the submitter's gid and the executor's gid", "[runtime]") {
  runtime_level_guard rg;
  gidlog::options opt;
  opt.level = gidlog::level::info;  // the application's level does not gate the runtime logger
  gidlog_test::logger_session log(opt);
  gidlog::set_runtime_log_level(gidlog::level::trace);
  const std::uint32_t me = gidlog::gid();
  std::uint32_t worker = 0;
  std::uint64_t id = 0;
  {
    gidlog::worker_pool pool("traced", 1);
    auto t = pool.submit([] { return gidlog::gid(); });
    id = t.id();
    worker = t.get();
  }
  const auto lines = log.lines();
  INFO(all(lines));
  REQUIRE(worker != me);
  const std::string job = "pool \"traced\": job " + std::to_string(id) + " ";
  const auto submitted = matching(lines, job + "submitted by gid-" + std::to_string(me));
  const auto started = matching(lines, job + "started on gid-" + std::to_string(worker) + ", submitted by gid-" +
                                           std::to_string(me) + ", queue wait ");
  const auto finished = matching(lines, job + "finished on gid-" + std::to_string(worker) + " in ");
  REQUIRE(submitted.size() == 1);
  REQUIRE(started.size() == 1);
  REQUIRE(finished.size() == 1);
  // The prefix's gid is the thread that logged: the submitter, then the worker.
  CHECK(contains(submitted[0], ":TRACE:gid-" + std::to_string(me) + ":"));
  CHECK(contains(started[0], ":TRACE:gid-" + std::to_string(worker) + ":"));
  CHECK(contains(finished[0], ":TRACE:gid-" + std::to_string(worker) + ":"));
  CHECK(contains(finished[0], "submitted by gid-" + std::to_string(me)));
  CHECK(matching(lines, "pool \"traced\": worker 0 started on gid-" + std::to_string(worker)).size() == 1);
  CHECK(matching(lines, ":INFO:").size() >= 2);  // started, closed
}

TEST_CASE("the runtime logger's records carry the logger name gidlog.runtime", "[runtime]") {
  gidlog::options opt;
  opt.pattern = "%n|%l|%v";
  gidlog_test::logger_session log(opt);
  { gidlog::worker_pool pool("named", 1); }
  const auto lines = log.lines();
  INFO(all(lines));
  CHECK(matching(lines, "gidlog.runtime|INFO|pool \"named\": started with 1 workers").size() == 1);
}

TEST_CASE("at the default level the runtime logs no TRACE or DEBUG record", "[runtime]") {
  runtime_level_guard rg;
  gidlog::set_runtime_log_level(gidlog::level::info);
  gidlog::options opt;
  opt.level = gidlog::level::trace;  // even with the application at trace
  gidlog_test::logger_session log(opt);
  {
    gidlog::worker_pool pool("quiet", 2);
    for (int i = 0; i < 100; ++i) pool.post([] {});
  }
  const auto lines = log.lines();
  INFO(all(lines));
  CHECK(matching(lines, ":TRACE:").empty());
  CHECK(matching(lines, ":DEBUG:").empty());
  gidlog::set_runtime_log_level(gidlog::level::off);
  { gidlog::worker_pool pool("silent", 1); }
  CHECK(matching(log.lines(), "silent").empty());
}

TEST_CASE("job exceptions are logged at ERROR: post at once, submit when nobody observed them", "[runtime]") {
  gidlog_test::logger_session log;
  std::uint64_t observed_id = 0, unobserved_id = 0;
  {
    gidlog::worker_pool pool("errors", 1);
    pool.post([] { throw std::runtime_error("posted boom"); });
    auto observed = pool.submit([]() -> int { throw std::runtime_error("observed boom"); });
    observed_id = observed.id();
    CHECK_THROWS_AS(observed.get(), std::runtime_error);
    auto unobserved = pool.submit([]() -> int { throw std::runtime_error("unobserved boom"); });
    unobserved_id = unobserved.id();
    unobserved.wait();
  }  // `unobserved` destroyed here without get()
  const auto lines = log.lines();
  INFO(all(lines));
  CHECK(matching(lines, ":ERROR:").size() == 2);
  CHECK(matching(lines, "threw: posted boom (posted at ").size() == 1);
  CHECK(matching(lines, "job " + std::to_string(unobserved_id) + " threw and nobody called get(): unobserved boom")
            .size() == 1);
  CHECK(matching(lines, "observed boom").size() == 1);  // only the unobserved one
  CHECK(matching(lines, "job " + std::to_string(observed_id) + " ").empty());
}

TEST_CASE("a handle dropped before its job fails gets the failure logged when the job ends", "[runtime]") {
  gidlog_test::logger_session log;
  {
    gidlog::worker_pool pool("late", 1);
    std::latch gate(1);
    {
      auto t = pool.submit([&gate]() -> int {
        gate.wait();
        throw std::runtime_error("late boom");
      });
    }
    gate.count_down();
  }
  const auto lines = log.lines();
  INFO(all(lines));
  CHECK(matching(lines, ":ERROR:").size() == 1);
  CHECK(matching(lines, "nobody called get(): late boom").size() == 1);
}

TEST_CASE("rejects, timeouts and slow jobs are logged at WARN", "[runtime]") {
  gidlog_test::logger_session log;
  {
    gidlog::worker_pool pool({.name = "warned",
                              .threads = 1,
                              .max_queue = 1,
                              .on_full = gidlog::overflow::reject,
                              .slow_job_warn = std::chrono::milliseconds(1)});
    std::latch started(1), gate(1);
    auto blocker = pool.submit([&] {
      started.count_down();
      gate.wait();
    });
    started.wait();
    auto queued = pool.submit([] {});
    CHECK_FALSE(pool.try_post([] {}));
    gate.count_down();
    blocker.get();
    queued.get();
    // The worker must take the job before the deadline (see test_timing.h). 5 ms was not enough
    // with the suite running two tests at a time beside two compilers: the job timed out queued.
    CHECK_THROWS_AS(pool.run_for([](std::stop_token st) { while (!st.stop_requested()) std::this_thread::yield(); },
                                 gidlog_test::wakeup_deadline(250ms)),
                    gidlog::task_timeout);
  }
  const auto lines = log.lines();
  INFO(all(lines));
  CHECK(matching(lines, ":WARN:").size() >= 3);
  CHECK(matching(lines, "rejected: queue full (max_queue 1)").size() == 1);
  CHECK(matching(lines, "timed out while running (run_for); stop requested").size() == 1);
  CHECK(matching(lines, "pool \"warned\": slow job ").size() >= 1);
}

TEST_CASE("limiter exceptions are logged at ERROR and the token comes back", "[runtime]") {
  gidlog_test::logger_session log;
  gidlog::limiter lim("fragile", 1);
  lim.go([] { throw std::runtime_error("limiter boom"); });
  lim.wait();
  CHECK(lim.in_flight() == 0);
  const auto lines = log.lines();
  INFO(all(lines));
  CHECK(matching(lines, ":ERROR:").size() == 1);
  CHECK(matching(lines, "threw: limiter boom").size() == 1);
  CHECK(matching(lines, "token returned").size() == 1);
}

TEST_CASE("resize and close are logged at INFO", "[runtime]") {
  gidlog_test::logger_session log;
  {
    gidlog::worker_pool pool("sized", 1);
    pool.resize(3);
    pool.resize(2);
    pool.close(gidlog::close_mode::cancel_queued);
  }
  const auto lines = log.lines();
  INFO(all(lines));
  CHECK(matching(lines, ":INFO:").size() >= 4);
  CHECK(matching(lines, "pool \"sized\": resized from 1 to 3 workers").size() == 1);
  CHECK(matching(lines, "pool \"sized\": resized from 3 to 2 workers").size() == 1);
  CHECK(matching(lines, "pool \"sized\": closed (cancel queued)").size() == 1);
}
