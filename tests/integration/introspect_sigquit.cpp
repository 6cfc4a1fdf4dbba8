// options::dump_on_sigquit: a child process started with it gets SIGQUIT, writes the thread and
// task profiles to stderr and to its log, and keeps running; stop() puts the previous SIGQUIT
// action back; start() refuses SIGQUIT in both dump_on_sigquit and crash_signals.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <latch>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <gidlog/gidlog.h>

#include "child_process.h"
#include "introspect_util.h"
#include "log_capture.h"
#include "test_timing.h"

using namespace std::chrono_literals;

namespace {

using gidlog_test::gate;


std::atomic<int> g_after{0};

[[gnu::noinline]] void waiting_for_the_dump(gate& g) {
  g.wait();
  ++g_after;  // not a tail call: this frame stays on the stack
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void on_quit_noop(int) {}

}  // namespace

TEST_CASE("child: SIGQUIT dump", "[.]") {
  const std::string log = gidlog_test::child_env("GIDLOG_TEST_LOG");
  if (log.empty()) return;  // run by hand, not by the test below
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(log)};
  opt.dump_on_sigquit = true;
  gidlog::start(opt);
  gate g;
  std::latch started(2);
  std::thread t([&] {
    started.count_down();
    waiting_for_the_dump(g);
  });
  gidlog::limiter lim("quit-test", 1);
  lim.go([&] {
    started.count_down();
    waiting_for_the_dump(g);
  });
  started.wait();
  LOG_INFO("before SIGQUIT");
  ::kill(::getpid(), SIGQUIT);
  // The dump is written by its own thread: wait until it is in the log.
  const bool dumped = gidlog_test::wait_until(
      [&] {
        gidlog::flush();
        return file_text(log).find("SIGQUIT: thread and task profile") != std::string::npos;
      },
      10s);
  LOG_INFO("still running after the dump");
  g.release();
  t.join();
  lim.wait();
  gidlog::stop();
  struct sigaction now {};
  ::sigaction(SIGQUIT, nullptr, &now);
  std::printf("dumped=%d restored=%d\n", dumped ? 1 : 0, now.sa_handler == SIG_DFL ? 1 : 0);
  std::fflush(stdout);
  gidlog_test::end_child(0);
}

TEST_CASE("SIGQUIT writes the thread and task profiles to stderr and the log, and the process goes on", "[sigquit]") {
  const std::string log = gidlog_test::temp_path("sigquit.log");
  std::remove(log.c_str());
  const auto r = gidlog_test::run_child_test("child: SIGQUIT dump", {.env = {"GIDLOG_TEST_LOG=" + log}, .deadline = 60s});
  INFO(r.describe());
  REQUIRE(r.exited_with(0));
  CHECK(r.out.find("dumped=1 restored=1\n") != std::string::npos);

  // stderr: the heading, every thread with its stack, the limiter's task.
  CHECK(r.err.find("gidlog: SIGQUIT: threads and tasks of process " + std::to_string(r.pid) + " (the process keeps running)") !=
        std::string::npos);
  CHECK(r.err.find("thread " + std::to_string(r.pid) + " \"") != std::string::npos);
  CHECK_SYMBOLIZED(r.err.find("waiting_for_the_dump") != std::string::npos);
  CHECK(r.err.find("\"gidlog-sigquit\" [running") != std::string::npos);
  CHECK(r.err.find("created by gid-" + std::to_string(r.pid) + " at ") != std::string::npos);
  CHECK(r.err.find("owner limiter \"quit-test\"") != std::string::npos);

  // The log: one WARN record holding the same, then the process went on logging.
  const std::string text = file_text(log);
  INFO(text);
  const auto dump = text.find(":WARN:");
  REQUIRE(dump != std::string::npos);
  CHECK(text.find("SIGQUIT: thread and task profile\ngidlog: SIGQUIT: threads and tasks of process", dump) != std::string::npos);
  CHECK_SYMBOLIZED(text.find("waiting_for_the_dump", dump) != std::string::npos);
  CHECK(text.find("still running after the dump", dump) != std::string::npos);
  CHECK(text.find("before SIGQUIT") < dump);
  std::remove(log.c_str());
}

TEST_CASE("stop() puts the previous SIGQUIT action back", "[sigquit]") {
  struct sigaction mine {};
  mine.sa_handler = on_quit_noop;
  sigemptyset(&mine.sa_mask);
  struct sigaction before {};
  ::sigaction(SIGQUIT, &mine, &before);
  gidlog::options opt;
  opt.sinks = {gidlog::console_sink(gidlog::console_stream::err)};
  opt.dump_on_sigquit = true;
  gidlog::start(opt);
  struct sigaction during {};
  ::sigaction(SIGQUIT, nullptr, &during);
  CHECK(during.sa_handler != on_quit_noop);
  gidlog::stop();
  struct sigaction after {};
  ::sigaction(SIGQUIT, nullptr, &after);
  CHECK(after.sa_handler == on_quit_noop);
  ::sigaction(SIGQUIT, &before, nullptr);
}

TEST_CASE("start() refuses dump_on_sigquit with SIGQUIT among the crash signals", "[sigquit]") {
  gidlog::options opt;
  opt.dump_on_sigquit = true;
  opt.crash_signals.push_back(SIGQUIT);
  CHECK_THROWS_WITH(gidlog::start(opt), Catch::Contains("gidlog::options::dump_on_sigquit"));
  CHECK_FALSE(gidlog::running());
}
