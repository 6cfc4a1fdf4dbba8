// The README's quick start: log to a file and the console, from two threads.
#include <thread>

#include <gidlog/gidlog.h>

int main() {
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink("quick_start.log"), gidlog::console_sink()};
  opt.level = gidlog::level::debug;
  gidlog::start(opt);

  LOG_INFO("GameRoom Startup->");
  std::thread worker([] { LOG_INFO("Start for HTTP server on port {}", 8080); });
  worker.join();
  LOG_DEBUG("pi is about {:.3f}, main gid is {}", 3.14159265, gidlog::gid());
  LOG_WARN("queue {} is {}% full", "requests", 93.5);

  gidlog::stop();  // also runs at exit
}
