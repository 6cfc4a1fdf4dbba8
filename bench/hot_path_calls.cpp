// A fixed number of LOG_INFO calls in one function, for counting the hot path's instructions with
// callgrind (repeatable on a noisy machine, unlike wall time):
//   valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*run_calls*'
//            build/release/bench/hot_path_calls 100000
// then instructions per call = the Ir total / 100000. The queue holds every record, so no call
// waits for the backend.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include <gidlog/gidlog.h>

// One call as the peer harness (../shared/peers) makes it: a function of its own, so the
// arguments arrive in registers and the string's length is not known at compile time.
[[gnu::noinline]] void log_one(std::uint64_t i, double d, const char* s) {
  LOG_INFO("Logging int: {}, double: {:.3f}, str: {}", i, d, s);
}

[[gnu::noinline]] void run_calls(int n, const char* str) {
  for (int i = 0; i < n; ++i) log_one(static_cast<std::uint64_t>(i), i * 1.1, str);
}

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  std::string path = "/tmp/gidlog_hot_path_" + std::to_string(::getpid()) + ".log";
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(path, {.truncate = true})};
  opt.queue_capacity = static_cast<std::size_t>(n) + 1024;
  gidlog::start(opt);
  LOG_INFO("warm-up: this thread attaches its producer outside the counted calls");
  gidlog::flush();
  run_calls(n, argc > 2 ? argv[2] : "hello");
  gidlog::stop();
  ::unlink(path.c_str());
  return 0;
}
