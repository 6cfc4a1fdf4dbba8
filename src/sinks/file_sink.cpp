// Backend thread: the file sink. Appends to a file through its own buffer and write(2).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

#include <gidlog/sink.h>

#include "sinks/fd_buffer.h"

namespace gidlog {
inline namespace v0 {
namespace {

class file_sink_impl final : public sink {
 public:
  file_sink_impl(std::string path, file_sink_options opts) : path_(std::move(path)), opts_(opts) {}
  ~file_sink_impl() override {
    try {
      drain();
    } catch (...) {
    }
    if (fd_ >= 0) ::close(fd_);
  }

  void open() override {
    if (fd_ >= 0) return;
    if (path_.empty()) throw std::invalid_argument("file_sink: the path is empty");
    if (opts_.buffer_bytes == 0) throw std::invalid_argument("file_sink: buffer_bytes must be at least 1");
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (opts_.truncate ? O_TRUNC : O_APPEND);
    fd_ = ::open(path_.c_str(), flags, 0644);
    if (fd_ < 0)
      throw std::invalid_argument("file_sink: cannot open \"" + path_ + "\": " + std::strerror(errno));
  }

  void write(const log_line& line) override {
    if (fd_ < 0) open();
    if (buf_.size() + line.text.size() > opts_.buffer_bytes && !buf_.empty()) drain();  // may throw: line not taken
    buf_.append(line.text);
  }

  void flush() override {
    drain();
    if (opts_.fsync_on_flush && fd_ >= 0 && ::fdatasync(fd_) != 0)
      throw std::system_error(errno, std::generic_category(), "fdatasync " + path_);
  }

  void after_fork_child() noexcept override { buf_.clear(); }

 private:
  void drain() { buf_.drain(fd_, path_); }

  std::string path_;
  file_sink_options opts_;
  int fd_ = -1;
  detail::fd_buffer buf_;
};

}  // namespace

sink_ptr file_sink(std::string path, file_sink_options opts) {
  return std::make_shared<file_sink_impl>(std::move(path), opts);
}

}  // namespace v0
}  // namespace gidlog
