#include "sinks/rotated_files.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <system_error>

#ifdef GIDLOG_HAS_ZLIB
#include <zlib.h>
#endif

#include "core/shared.h"
#include "sinks/compressor.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

[[noreturn]] void throw_errno(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

bool exists(const std::string& p) noexcept {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}

void kill_at(compress_step step) noexcept {
  if (compress_kill_step() == step) ::kill(::getpid(), SIGKILL);
}

void write_all(int fd, const unsigned char* p, std::size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, "write " + path);
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace

compress_step compress_kill_step() noexcept {
  static const compress_step step = [] {
    const char* v = std::getenv("GIDLOG_TEST_COMPRESS_KILL_AT");
    if (v == nullptr) return compress_step::none;
    if (std::strcmp(v, "partial") == 0) return compress_step::partial;
    if (std::strcmp(v, "synced") == 0) return compress_step::synced;
    if (std::strcmp(v, "renamed") == 0) return compress_step::renamed;
    return compress_step::none;
  }();
  return step;
}

rotated_files::rotated_files(std::string path, std::string stem, std::string ext, rotation rot, const char* sink_name)
    : path_(std::move(path)),
      stem_(std::move(stem)),
      ext_(std::move(ext)),
      tmp_(path_ + ".gz.tmp"),
      rot_(rot),
      sink_name_(sink_name) {}

std::string rotated_files::numbered(std::size_t i) const { return stem_ + '.' + std::to_string(i) + ext_; }

bool rotated_files::slot_exists(std::size_t i) const noexcept {
  const std::string n = numbered(i);
  return exists(n) || exists(n + ".gz");
}

void rotated_files::remove_slot(std::size_t i) noexcept {
  const std::string n = numbered(i);
  for (const std::string& p : {n + ".gz", n}) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) report("retention: unlink " + p + ": " + std::strerror(errno));
  }
}

// Makes room at number 1 by shifting 1..k-1 to 2..k, where k is the first missing number, or
// max_files when none is missing (whose files are deleted first), then moves the live file in.
// Each slot moves with both its names: a crash between a compression's rename and its unlink
// leaves both, which the compressor resolves.
void rotated_files::rotate_in() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::size_t k = 1;
  while (k < rot_.max_files && slot_exists(k)) ++k;
  if (k == rot_.max_files) remove_slot(k);
  for (std::size_t i = k; i > 1; --i) {
    for (const char* suffix : {"", ".gz"}) {
      const std::string from = numbered(i - 1) + suffix, to = numbered(i) + suffix;
      if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT)
        throw_errno(errno, "rotate: rename " + from + " to " + to);
    }
  }
  const std::string first = numbered(1);
  if (::rename(path_.c_str(), first.c_str()) != 0) throw_errno(errno, "rotate: rename " + path_ + " to " + first);
}

void rotated_files::prune() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  timespec now_ts;
  ::clock_gettime(CLOCK_REALTIME, &now_ts);
  const std::int64_t oldest_kept = rot_.max_age.count() > 0 ? now_ts.tv_sec - rot_.max_age.count() : INT64_MIN;
  std::uint64_t total = 0;
  std::size_t drop = 0, last = 0;
  for (std::size_t i = 1;; ++i) {
    std::uint64_t size = 0;
    std::int64_t mtime = INT64_MIN;
    bool found[2] = {false, false};  // plain, .gz
    const std::string n = numbered(i);
    for (int k = 0; k < 2; ++k) {
      struct stat st;
      if (::stat((k == 0 ? n : n + ".gz").c_str(), &st) != 0) continue;
      found[k] = true;
      size += static_cast<std::uint64_t>(st.st_size);
      if (st.st_mtim.tv_sec > mtime) mtime = st.st_mtim.tv_sec;
    }
    if (!found[0] && !found[1]) break;
    last = i;
    // A file waiting for the compressor counts by what it will take, once compressed: judged by
    // its plain size it could be deleted unread where max_total_bytes < max_bytes.
    const bool waiting = compresses() && found[0] && !found[1];
    if (waiting) size = 0;
    if (drop == 0) {
      if (i > rot_.max_files || (rot_.max_total_bytes != 0 && total + size > rot_.max_total_bytes) ||
          mtime < oldest_kept)
        drop = i;
    }
    total += size;
  }
  // From the oldest down, so that a crash midway leaves a run without a gap.
  if (drop != 0)
    for (std::size_t i = last; i >= drop; --i) remove_slot(i);
}

void rotated_files::remove_temporary() noexcept {
  if (::unlink(tmp_.c_str()) != 0 && errno != ENOENT) report("unlink " + tmp_ + ": " + std::strerror(errno));
}

std::size_t rotated_files::next_to_compress() noexcept {
  for (std::size_t i = 1; slot_exists(i); ++i) {
    const std::string n = numbered(i);
    if (!exists(n)) continue;
    // Both names: a kill after the rename to .gz (which only a complete, fsynced file gets).
    if (exists(n + ".gz")) {
      if (::unlink(n.c_str()) != 0) report("unlink " + n + ": " + std::strerror(errno));
      continue;
    }
    return i;
  }
  return 0;
}

bool rotated_files::has_uncompressed() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_to_compress() != 0;
}

void rotated_files::compress_all(const std::atomic<bool>& cancel) noexcept {
  remove_temporary();
  for (;;) {
    if (cancel.load(std::memory_order_relaxed)) return;
    std::size_t slot = 0;
    {
      std::lock_guard<std::mutex> gate(compressor_fork_gate());
      std::lock_guard<std::mutex> lock(mutex_);
      slot = next_to_compress();
    }
    if (slot == 0) break;
    try {
      if (!compress_one(slot, cancel)) return;
      reported_.store(false, std::memory_order_relaxed);
      // While the backend rotates faster than gzip runs, the queue does not empty: retention
      // keeps the compressed files within their limits as each one is done, not only at the end.
      if (limits_beyond_count()) {
        std::lock_guard<std::mutex> gate(compressor_fork_gate());
        prune();
      }
    } catch (const std::exception& e) {
      ::unlink(tmp_.c_str());
      report(std::string("compress: ") + e.what());
      break;  // retried at the next rotation or start()
    }
  }
  std::lock_guard<std::mutex> gate(compressor_fork_gate());
  prune();
}

// `slot` was uncompressed when chosen; the backend may shift it up while this runs (the file is
// followed by its inode) or retention may delete it (then the .tmp goes too). False: cancelled.
bool rotated_files::compress_one(std::size_t slot, const std::atomic<bool>& cancel) {
#ifndef GIDLOG_HAS_ZLIB
  (void)slot;
  (void)cancel;
  throw std::runtime_error("gidlog was built without zlib (GIDLOG_ZLIB=OFF)");
#else
  const std::string src = numbered(slot);
  struct closer {
    int fd = -1;
    ~closer() {
      if (fd >= 0) ::close(fd);
    }
  } in, out;
  in.fd = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in.fd < 0) {
    if (errno == ENOENT) return true;  // shifted or deleted since: the next round finds it
    throw_errno(errno, "open " + src);
  }
  struct stat st;
  if (::fstat(in.fd, &st) != 0) throw_errno(errno, "fstat " + src);
  out.fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out.fd < 0) throw_errno(errno, "open " + tmp_);

  z_stream z{};
  // 15 + 16: a gzip header and trailer around the deflate stream, as gzip(1) writes.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("zlib deflateInit2 failed");
  struct ender {
    z_stream* z;
    ~ender() { deflateEnd(z); }
  } end{&z};
  constexpr std::size_t chunk = 256 * 1024;
  std::unique_ptr<unsigned char[]> ibuf(new unsigned char[chunk]), obuf(new unsigned char[chunk]);
  bool first = true;
  for (;;) {
    if (cancel.load(std::memory_order_relaxed)) {
      ::unlink(tmp_.c_str());
      return false;
    }
    ssize_t got = ::read(in.fd, ibuf.get(), chunk);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, "read " + src);
    }
    z.next_in = ibuf.get();
    z.avail_in = static_cast<unsigned>(got);
    const int flush = got == 0 ? Z_FINISH : Z_NO_FLUSH;
    int rc = Z_OK;
    do {
      z.next_out = obuf.get();
      z.avail_out = static_cast<unsigned>(chunk);
      rc = deflate(&z, flush);
      if (rc == Z_STREAM_ERROR) throw std::runtime_error("zlib deflate failed");
      write_all(out.fd, obuf.get(), chunk - z.avail_out, tmp_);
    } while (z.avail_out == 0);
    if (first && got > 0) {
      first = false;
      kill_at(compress_step::partial);
    }
    if (rc == Z_STREAM_END) break;
  }
  // The .gz keeps the rotated file's times: retention by max_age, and ls -l, go by them.
  const timespec times[2] = {st.st_atim, st.st_mtim};
  if (::futimens(out.fd, times) != 0) throw_errno(errno, "futimens " + tmp_);
  if (::fsync(out.fd) != 0) throw_errno(errno, "fsync " + tmp_);
  if (::close(out.fd) != 0) {
    out.fd = -1;
    throw_errno(errno, "close " + tmp_);
  }
  out.fd = -1;
  kill_at(compress_step::synced);

  std::lock_guard<std::mutex> gate(compressor_fork_gate());
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::size_t i = slot; slot_exists(i); ++i) {
    const std::string now_at = numbered(i);
    struct stat cur;
    if (::stat(now_at.c_str(), &cur) != 0 || cur.st_dev != st.st_dev || cur.st_ino != st.st_ino) continue;
    const std::string gz = now_at + ".gz";
    if (::rename(tmp_.c_str(), gz.c_str()) != 0) throw_errno(errno, "rename " + tmp_ + " to " + gz);
    kill_at(compress_step::renamed);
    if (::unlink(now_at.c_str()) != 0) throw_errno(errno, "unlink " + now_at);
    return true;
  }
  ::unlink(tmp_.c_str());  // deleted by retention meanwhile
  return true;
#endif
}

void rotated_files::report(const std::string& what) noexcept {
  shared().sink_errors.fetch_add(1, std::memory_order_relaxed);
  if (reported_.exchange(true, std::memory_order_relaxed)) return;
  std::fprintf(stderr, "gidlog: %s: %s\n", sink_name_, what.c_str());
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
