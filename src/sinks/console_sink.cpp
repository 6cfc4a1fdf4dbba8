// Backend thread: the console sink, stdout or stderr, coloured by level on a terminal.
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <system_error>
#include <vector>

#include <gidlog/sink.h>

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
        color_(c == color_mode::always || (c == color_mode::automatic && ::isatty(fd_) == 1)) {}

  void write(const log_line& line) override {
    if (buf_.size() > (1u << 16)) flush();
    if (color_) {
      std::string_view c = color_of(line.level);
      buf_.insert(buf_.end(), c.begin(), c.end());
      std::string_view body = line.text.substr(0, line.text.size() - 1);  // colour stops before '\n'
      buf_.insert(buf_.end(), body.begin(), body.end());
      std::string_view reset = "\033[0m\n";
      buf_.insert(buf_.end(), reset.begin(), reset.end());
    } else {
      buf_.insert(buf_.end(), line.text.begin(), line.text.end());
    }
  }

  void flush() override {
    std::size_t done = 0;
    while (done < buf_.size()) {
      ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(done));
        throw std::system_error(err, std::generic_category(), fd_ == STDOUT_FILENO ? "write stdout" : "write stderr");
      }
      done += static_cast<std::size_t>(n);
    }
    buf_.clear();
  }

  void after_fork_child() noexcept override { buf_.clear(); }

 private:
  int fd_;
  bool color_;
  std::vector<char> buf_;
};

}  // namespace

sink_ptr console_sink(console_stream stream, color_mode color) {
  return std::make_shared<console_sink_impl>(stream, color);
}

}  // namespace v0
}  // namespace gidlog
