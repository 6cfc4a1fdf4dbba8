#pragma once
// Backend thread: a byte buffer in front of a file descriptor, shared by the file and console
// sinks. drain() writes everything or keeps what it could not write and throws; a reader that
// went away is EPIPE, never a SIGPIPE (sigpipe.h).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "sinks/sigpipe.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

class fd_buffer {
 public:
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  // A memcpy into room kept from earlier lines: std::vector's range insert took three times the
  // instructions for a JSON line (callgrind).
  void append(std::string_view s) {
    if (s.size() > cap_ - size_) grow(s.size());
    std::memcpy(data_.get() + size_, s.data(), s.size());
    size_ += s.size();
  }
  void clear() noexcept { size_ = 0; }

  // For a line written in place: room for n bytes after the contents, then commit() of the bytes
  // written there. Until committed they are not part of the buffer, except that drain() keeps the
  // `tail` it is told about, moved to the front.
  char* room(std::size_t n) {
    if (n > cap_ - size_) grow(n);
    return data_.get() + size_;
  }
  void commit(std::size_t n) noexcept { size_ += n; }

  // Gives the memory back when the buffer is empty and holds more than `keep` bytes of room (after
  // one huge line).
  void release_above(std::size_t keep) noexcept {
    if (size_ == 0 && cap_ > keep) {
      data_.reset();
      cap_ = 0;
    }
  }

  // Writes the whole buffer to fd; on an error keeps the unwritten bytes and throws
  // std::system_error naming `what` (a path or "stdout"). The `tail` bytes of room() after the
  // contents are moved to the front once the contents are written (lost on a throw).
  void drain(int fd, const std::string& what, std::size_t tail = 0) {
    std::size_t done = 0;
    while (done < size_) {
      ssize_t n = write_no_sigpipe(fd, data_.get() + done, size_ - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        std::memmove(data_.get(), data_.get() + done, size_ - done);
        size_ -= done;
        throw std::system_error(err, std::generic_category(), "write " + what);
      }
      done += static_cast<std::size_t>(n);
    }
    if (tail != 0) std::memmove(data_.get(), data_.get() + size_, tail);
    size_ = 0;
  }

 private:
  void grow(std::size_t more) {
    const std::size_t cap = std::max(2 * cap_, size_ + more);
    std::unique_ptr<char[]> bigger(new char[cap]);
    if (size_ != 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    cap_ = cap;
  }

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0, cap_ = 0;
};

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
