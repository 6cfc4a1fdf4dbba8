#include "sinks/log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <system_error>

#include "sinks/compressor.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

constexpr std::size_t max_rotated_files = 100000;

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// Opens `path` for appending; when its directory is missing (never made, or removed with the
// file since), makes it and its missing parents (0755, as mkdir -p) and tries again. Returns the
// fd, or -1 with errno set; `failed_dir` names a directory that could not be made.
int open_making_dirs(const std::string& path, int flags, std::string& failed_dir) {
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd >= 0 || errno != ENOENT) return fd;
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (path[slash - 1] == '/') continue;  // "a//b"
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      const int err = errno;
      failed_dir = dir;
      errno = err;
      return -1;
    }
  }
  return ::open(path.c_str(), flags, 0644);
}

}  // namespace

log_file::log_file(std::string path, file_sink_options opts, std::optional<rotation> rot, const char* sink_name,
                   const char* rotation_name)
    : path_(std::move(path)), opts_(opts), rot_(rot), sink_name_(sink_name), rotation_name_(rotation_name) {
  // "dir/app.log" -> "dir/app" + ".log"; "dir/app", "dir/.app", "d.x/app" -> no extension.
  const std::size_t base = path_.rfind('/') == std::string::npos ? 0 : path_.rfind('/') + 1;
  const std::size_t dot = path_.rfind('.');
  const std::size_t split = dot != std::string::npos && dot > base ? dot : path_.size();
  stem_ = path_.substr(0, split);
  ext_ = path_.substr(split);
  if (rot_) files_ = std::make_shared<rotated_files>(path_, stem_, ext_, *rot_, sink_name);
}

log_file::~log_file() {
  try {
    if (!buf_.empty()) drain();
  } catch (...) {
  }
  close_fd();
}

void log_file::open() {
  if (fd_ >= 0) {  // a later start() with this sink
    recover_rotated();
    return;
  }
  auto bad = [&](const std::string& why) { throw std::invalid_argument(std::string(sink_name_) + ": " + why); };
  if (path_.empty()) bad("the path is empty");
  if (opts_.buffer_bytes == 0) bad("buffer_bytes must be at least 1");
  if (rot_) {
    const std::string field = std::string(rotation_name_) + '.';
    if (rot_->max_bytes == 0 && !rot_->daily_at)
      bad(std::string(rotation_name_) + ": neither max_bytes nor daily_at is set (a file that never rotates is a file_sink)");
    if (rot_->max_files < 1 || rot_->max_files > max_rotated_files)
      bad(field + "max_files must be between 1 and " + std::to_string(max_rotated_files) + " (got " +
          std::to_string(rot_->max_files) + ")");
    if (rot_->daily_at && (rot_->daily_at->count() < 0 || rot_->daily_at->count() >= 24 * 60))
      bad(field + "daily_at must be a time of day, from 0 to 23:59 (got " + std::to_string(rot_->daily_at->count()) +
          " min)");
    if (rot_->compress != compression::none && rot_->compress != compression::gzip)
      bad(field + "compress: unknown value " + std::to_string(static_cast<int>(rot_->compress)));
#ifndef GIDLOG_HAS_ZLIB
    if (rot_->compress == compression::gzip)
      bad(field + "compress: gzip needs zlib, and this gidlog was built without it (GIDLOG_ZLIB=OFF)");
#endif
    if (rot_->max_age.count() < 0)
      bad(field + "max_age must not be negative (0: no limit; got " + std::to_string(rot_->max_age.count()) + " s)");
    if (rot_->compress == compression::none && rot_->max_total_bytes != 0 && rot_->max_total_bytes < rot_->max_bytes)
      bad(field + "max_total_bytes (" + std::to_string(rot_->max_total_bytes) + ") is below max_bytes (" +
          std::to_string(rot_->max_bytes) + "): without compression no rotated file would be kept");
  }
  // Truncates only the first time: a later start() with this sink appends, as a reopen does.
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND | (opts_.truncate && !opened_ ? O_TRUNC : 0);
  std::string failed_dir;
  const int fd = open_making_dirs(path_, flags, failed_dir);
  if (fd < 0 && !failed_dir.empty()) bad("cannot create directory \"" + failed_dir + "\": " + std::strerror(errno));
  if (fd < 0) bad("cannot open \"" + path_ + "\": " + std::strerror(errno));
  fd_ = fd;
  opened_ = true;
  struct stat st;
  const bool have = ::fstat(fd_, &st) == 0;
  file_bytes_ = have ? static_cast<std::uint64_t>(st.st_size) : 0;
  if (rot_ && rot_->daily_at) {
    // A file last written before the latest boundary belongs to an earlier day: rotated first.
    std::int64_t since = 0;
    if (!have || file_bytes_ == 0) {
      timespec now;
      ::clock_gettime(CLOCK_REALTIME, &now);
      since = std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
    } else {
      since = std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
    }
    next_daily_ns_ = next_daily_after(since);
  }
  recover_rotated();
}

// start(): what a crash, a kill or a stop() that ran out of time left: a half-written .gz.tmp,
// rotated files not yet compressed, files retention would have deleted.
void log_file::recover_rotated() noexcept {
  if (!rot_) return;
  files_->remove_temporary();
  if (files_->compresses()) compressor_open();
  if (!(files_->compresses() && files_->has_uncompressed() && compress_later(files_))) files_->prune();
}

void log_file::append(std::string_view line, std::int64_t time_ns) {
  std::memcpy(line_room(line.size()), line.data(), line.size());
  commit_line(line.size(), time_ns);
}

// The line waits after the buffer's contents (the `tail` of every drain here) until it is taken.
void log_file::commit_line(std::size_t n, std::int64_t time_ns) {
  if (fd_ < 0) open_again();  // may throw: line not taken
  if (rot_) [[unlikely]] {
    if (rotation_due(n, time_ns)) rotate(time_ns, n);  // may throw: line not taken
    else if (time_ns >= next_daily_ns_) next_daily_ns_ = next_daily_after(time_ns);  // nothing to rotate
  }
  if (buf_.size() + n > opts_.buffer_bytes && !buf_.empty()) drain(n);  // may throw: line not taken
  buf_.commit(n);
}

void log_file::flush() {
  drain();
  if (opts_.fsync_on_flush && ::fdatasync(fd_) != 0) throw_errno(errno, "fdatasync " + path_);
}

void log_file::reopen(bool forced) {
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

// Writes the buffer to the file the path names. A file deleted since it was opened is not
// written (its bytes would be lost with it): the path is opened again, and while that fails
// this throws and the bytes stay buffered. fstat is one cheap syscall per write(2) of the buffer,
// and it also gives the file's size, which rotation by size goes by (another process appending
// to the same file included).
void log_file::drain(std::size_t tail) {
  struct stat st;
  if (fd_ >= 0 && !buf_.empty() && ::fstat(fd_, &st) == 0) {
    if (st.st_nlink == 0) close_fd();
    else file_bytes_ = static_cast<std::uint64_t>(st.st_size);
  }
  if (fd_ < 0) open_again();
  const std::size_t before = buf_.size();
  try {
    buf_.drain(fd_, path_, tail);
  } catch (...) {
    file_bytes_ += before - buf_.size();
    throw;
  }
  file_bytes_ += before;
  if (tail == 0) buf_.release_above(std::max<std::size_t>(4 * opts_.buffer_bytes, std::size_t{1} << 20));
}

void log_file::open_again() {
  std::string failed_dir;
  const int fd = open_making_dirs(path_, O_WRONLY | O_CREAT | O_CLOEXEC | O_APPEND, failed_dir);
  if (fd < 0 && !failed_dir.empty()) throw_errno(errno, "open " + path_ + ": mkdir " + failed_dir);
  if (fd < 0) throw_errno(errno, "open " + path_);
  fd_ = fd;
  struct stat st;
  file_bytes_ = ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

void log_file::close_fd() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool log_file::unlinked() const noexcept {
  struct stat st;
  return ::fstat(fd_, &st) == 0 && st.st_nlink == 0;
}

// False when the path is gone or names another file; true when it names ours, or when stat
// fails for another reason (EACCES, EIO...) and we cannot tell: keep the file we have.
bool log_file::names_our_file() const noexcept {
  struct stat at_path, ours;
  if (::stat(path_.c_str(), &at_path) != 0) return errno != ENOENT && errno != ENOTDIR;
  if (::fstat(fd_, &ours) != 0) return true;
  return at_path.st_dev == ours.st_dev && at_path.st_ino == ours.st_ino;
}

// An empty file never rotates, so a line longer than max_bytes goes into a file of its own.
bool log_file::rotation_due(std::size_t line_size, std::int64_t time_ns) const noexcept {
  const std::uint64_t size = file_bytes_ + buf_.size();
  if (size == 0) return false;
  return (rot_->max_bytes != 0 && size + line_size > rot_->max_bytes) || time_ns >= next_daily_ns_;
}

// Every step may throw; a retry (the next append) starts again from the state the failure left,
// which is always one the steps below complete: buffered bytes not yet in the old file, a gap in
// the numbered files (shift_rotated fills the first one), the live file not yet renamed, or the
// path not yet opened again (append opens it).
void log_file::rotate(std::int64_t time_ns, std::size_t tail) {
  if (!buf_.empty()) drain(tail);  // the old file gets every byte taken before this line
  // Moved away by someone else (another process writing this path rotated it, or logrotate):
  // that file is not ours to rename again; the path names the file to write now.
  bool rotated = false;
  if (names_our_file()) {
    files_->rotate_in();
    rotated = true;
  }
  close_fd();
  file_bytes_ = 0;
  if (rot_->daily_at) next_daily_ns_ = next_daily_after(time_ns);
  if (rotated) after_rotation();
  open_again();
}

// The compressor thread compresses and then prunes; without compression (or after stop(), when
// the compressor is stopped) retention runs here: a stat per rotated file and the deletions. With
// max_files alone, the shift has done it all already.
void log_file::after_rotation() noexcept {
  if (files_->compresses() && compress_later(files_)) return;
  if (files_->limits_beyond_count()) files_->prune();
}

// The first daily boundary (rot_->daily_at, local time) after `time_ns`.
std::int64_t log_file::next_daily_after(std::int64_t time_ns) const {
  if (!rot_ || !rot_->daily_at) return INT64_MAX;
  const std::int64_t sec = time_ns / 1'000'000'000 - (time_ns % 1'000'000'000 < 0 ? 1 : 0);
  const time_t now = static_cast<time_t>(sec);
  tm local{};
  localtime_r(&now, &local);
  for (int day = 0; day < 3; ++day) {  // today, or tomorrow (2: a DST day may put the boundary back)
    tm b = local;
    b.tm_mday += day;
    b.tm_hour = 0;
    b.tm_min = static_cast<int>(rot_->daily_at->count());
    b.tm_sec = 0;
    b.tm_isdst = -1;
    const time_t at = mktime(&b);
    if (at != static_cast<time_t>(-1) && at > now) return std::int64_t{at} * 1'000'000'000;
  }
  return INT64_MAX;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
