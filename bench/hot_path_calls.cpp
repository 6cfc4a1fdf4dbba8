// A fixed number of LOG_INFO calls in one function, for counting the hot path's instructions with
// callgrind (repeatable on a noisy machine, unlike wall time):
//   valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*run_calls*'
//            build/release/bench/hot_path_calls 100000
// then instructions per call = the Ir total / 100000. The queue holds every record, so no call
// waits for the backend.
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <gidlog/gidlog.h>

[[gnu::noinline]] void run_calls(int n) {
  const char* str = "a string";
  for (int i = 0; i < n; ++i) LOG_INFO("Logging int: {}, double: {:.3f}, str: {}", i, i * 1.1, str);
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
  run_calls(n);
  gidlog::stop();
  ::unlink(path.c_str());
  return 0;
}
