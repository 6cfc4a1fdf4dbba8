// Backend thread: the console sink, stdout or stderr, coloured by level on a terminal.
#include <unistd.h>

#include <string>
#include <string_view>

#include <gidlog/sinks/console.h>

#include "sinks/fd_buffer.h"

namespace gidlog {
inline namespace v0 {
namespace {

std::string_view color_of(level l) {
  switch (l) {
    case level::trace: return "\033[90m";
    case level::debug: return "\033[36m";
    case level::info: return "\033[32m";
    case level::warn: return "\033[33m";
    case level::error: return "\033[31m";
    case level::fatal: return "\033[1;41m";
    default: return "";
  }
}

class console_sink_impl final : public sink {
 public:
  console_sink_impl(console_stream s, color_mode c)
      : fd_(s == console_stream::out ? STDOUT_FILENO : STDERR_FILENO),
        name_(s == console_stream::out ? "stdout" : "stderr"),
        color_(c == color_mode::always || (c == color_mode::automatic && ::isatty(fd_) == 1)) {}

  void write(const log_line& line) override {
    if (buf_.size() > (1u << 16)) flush();
    if (color_) {
      buf_.append(color_of(line.level));
      buf_.append(line.text.substr(0, line.text.size() - 1));  // colour stops before '\n'
      buf_.append("\033[0m\n");
    } else {
      buf_.append(line.text);
    }
  }

  void flush() override { buf_.drain(fd_, name_); }

  void after_fork_child() noexcept override { buf_.clear(); }

 private:
  int fd_;
  std::string name_;
  bool color_;
  detail::fd_buffer buf_;
};

}  // namespace

sink_ptr console_sink(console_stream stream, color_mode color) {
  return std::make_shared<console_sink_impl>(stream, color);
}

}  // namespace v0
}  // namespace gidlog
