#include <gidlog/gidlog.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  gidlog::options opt;
  opt.sinks = {gidlog::file_sink(argv[1], {.truncate = true})};
  gidlog::start(opt);
  LOG_INFO("consumer says {}", 42);
  gidlog::stop();
  return 0;
}
