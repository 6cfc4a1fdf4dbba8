// Backend thread: the file sink. Appends to a file through its own buffer and write(2), and opens
// its path again when the file it writes is no longer there (deleted, or moved away by logrotate).
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

// States: open (fd_ >= 0); closed (fd_ < 0) after the path could not be opened again, when every
// write() and flush() tries to open it and throws while it cannot, so the writer keeps the lines
// and retries. Bytes in buf_ always go to the file the path names when they are written, except
// those taken before a logrotate rename, which finish the renamed file.
class file_sink_impl final : public sink {
 public:
  file_sink_impl(std::string path, file_sink_options opts) : path_(std::move(path)), opts_(opts) {}
  ~file_sink_impl() override {
    try {
      if (!buf_.empty()) drain();
    } catch (...) {
    }
    close_fd();
  }

  void open() override {
    if (fd_ >= 0) return;
    if (path_.empty()) throw std::invalid_argument("file_sink: the path is empty");
    if (opts_.buffer_bytes == 0) throw std::invalid_argument("file_sink: buffer_bytes must be at least 1");
    // Truncates only the first time: a later start() with this sink appends, as a reopen does.
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (opts_.truncate && !opened_ ? O_TRUNC : O_APPEND);
    fd_ = ::open(path_.c_str(), flags, 0644);
    if (fd_ < 0)
      throw std::invalid_argument("file_sink: cannot open \"" + path_ + "\": " + std::strerror(errno));
    opened_ = true;
  }

  void write(const log_line& line) override {
    if (fd_ < 0) open_again();  // may throw: line not taken
    if (buf_.size() + line.text.size() > opts_.buffer_bytes && !buf_.empty()) drain();  // may throw: line not taken
    buf_.append(line.text);
  }

  void flush() override {
    drain();
    if (opts_.fsync_on_flush && ::fdatasync(fd_) != 0)
      throw std::system_error(errno, std::generic_category(), "fdatasync " + path_);
  }

  void reopen(bool forced) override {
    if (fd_ < 0) {
      if (forced) open_again();  // otherwise the writer's retries open it
      return;
    }
    if (!forced && names_our_file()) return;
    // Renamed (still linked): what was taken before finishes that file, so the old file holds
    // the earlier lines and the new one the later. Deleted: those bytes go to the new file.
    if (!buf_.empty() && !unlinked()) buf_.drain(fd_, path_);  // may throw: keeps the old file
    close_fd();
    open_again();
  }

  void after_fork_child() noexcept override { buf_.clear(); }

 private:
  // Writes the buffer to the file the path names. A file deleted since it was opened is not
  // written (its bytes would be lost with it): the path is opened again, and while that fails
  // this throws and the bytes stay buffered. fstat is one cheap syscall per write(2) of the buffer.
  void drain() {
    if (fd_ >= 0 && !buf_.empty() && unlinked()) close_fd();
    if (fd_ < 0) open_again();
    buf_.drain(fd_, path_);
  }

  void open_again() {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND, 0644);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + path_);
    fd_ = fd;
  }

  void close_fd() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool unlinked() const noexcept {
    struct stat st;
    return ::fstat(fd_, &st) == 0 && st.st_nlink == 0;
  }

  // False when the path is gone or names another file; true when it names ours, or when stat
  // fails for another reason (EACCES, EIO...) and we cannot tell: keep the file we have.
  bool names_our_file() const noexcept {
    struct stat at_path, ours;
    if (::stat(path_.c_str(), &at_path) != 0) return errno != ENOENT && errno != ENOTDIR;
    if (::fstat(fd_, &ours) != 0) return true;
    return at_path.st_dev == ours.st_dev && at_path.st_ino == ours.st_ino;
  }

  std::string path_;
  file_sink_options opts_;
  int fd_ = -1;
  bool opened_ = false;
  detail::fd_buffer buf_;
};

}  // namespace

sink_ptr file_sink(std::string path, file_sink_options opts) {
  return std::make_shared<file_sink_impl>(std::move(path), opts);
}

}  // namespace v0
}  // namespace gidlog
