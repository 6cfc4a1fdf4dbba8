#pragma once
// Backend thread: a byte buffer in front of a file descriptor, shared by the file and console
// sinks. drain() writes everything or keeps what it could not write and throws; a reader that
// went away is EPIPE, never a SIGPIPE (sigpipe.h).
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "sinks/sigpipe.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

class fd_buffer {
 public:
  std::size_t size() const noexcept { return buf_.size(); }
  bool empty() const noexcept { return buf_.empty(); }
  void append(std::string_view s) { buf_.insert(buf_.end(), s.begin(), s.end()); }
  void clear() noexcept { buf_.clear(); }

  // Writes the whole buffer to fd; on an error keeps the unwritten bytes and throws
  // std::system_error naming `what` (a path or "stdout").
  void drain(int fd, const std::string& what) {
    std::size_t done = 0;
    while (done < buf_.size()) {
      ssize_t n = write_no_sigpipe(fd, buf_.data() + done, buf_.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(done));
        throw std::system_error(err, std::generic_category(), "write " + what);
      }
      done += static_cast<std::size_t>(n);
    }
    buf_.clear();
  }

 private:
  std::vector<char> buf_;
};

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
