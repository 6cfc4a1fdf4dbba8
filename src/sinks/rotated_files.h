#pragma once
// Both the backend and the compressor thread: the rotated files of one rotating sink ("app.1.log",
// "app.2.log.gz", ...; include/gidlog/sinks/rotating_file.h says how they are named, compressed and
// pruned). The backend moves the live file in (rotate_in) and prunes when nothing is compressed;
// the compressor thread (sinks/compressor.h) compresses and prunes. Both change the numbered
// names under mutex_ only, so a file is never renamed between the compressor finding it and
// replacing it by its .gz; the compression itself runs outside the lock.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include <gidlog/sinks/rotating_file.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

class rotated_files {
 public:
  // path == stem + ext; `sink_name` prefixes the errors reported.
  rotated_files(std::string path, std::string stem, std::string ext, rotation rot, const char* sink_name);

  // Rotated file i, uncompressed ("app.3.log"); + ".gz" when compressed.
  std::string numbered(std::size_t i) const;
  const std::string& temporary() const noexcept { return tmp_; }
  bool compresses() const noexcept { return rot_.compress != compression::none; }
  // Whether retention may delete more than the shift does (which keeps max_files).
  bool limits_beyond_count() const noexcept { return rot_.max_total_bytes != 0 || rot_.max_age.count() > 0; }

  // Backend: shifts the run up by one (deleting the oldest at max_files) and renames `live_path`
  // to number 1. Throws std::system_error when a rename fails; a retry completes the shift.
  void rotate_in();
  // Deletes the rotated files retention says (max_files, max_age, max_total_bytes), oldest first.
  // With compression, a file still waiting for it is not counted in max_total_bytes.
  // Errors are reported (stderr, sink_errors), not thrown.
  void prune() noexcept;
  // Deletes a compressed file left half written by a crash (start(), and before compressing).
  void remove_temporary() noexcept;
  // Whether a rotated file waits to be compressed (start(): a crash or a stop() left it).
  bool has_uncompressed() noexcept;

  // Compressor thread: compresses every uncompressed rotated file, newest first, pruning after
  // each (with limits beyond max_files) and at the end.
  // Gives up (the file stays uncompressed, the .tmp is deleted) when `cancel` becomes true.
  void compress_all(const std::atomic<bool>& cancel) noexcept;

  // Reports `what` once (until the next success): stderr and get_counters().sink_errors.
  void report(const std::string& what) noexcept;

 private:
  bool slot_exists(std::size_t i) const noexcept;
  void remove_slot(std::size_t i) noexcept;
  // Under mutex_: the lowest slot holding an uncompressed file (both names: finishes the crashed
  // compression by deleting the uncompressed copy). 0: none.
  std::size_t next_to_compress() noexcept;
  bool compress_one(std::size_t slot, const std::atomic<bool>& cancel);

  const std::string path_, stem_, ext_, tmp_;
  const rotation rot_;
  const char* sink_name_;
  std::mutex mutex_;
  std::atomic<bool> reported_{false};
};

// Test hook, read once: GIDLOG_TEST_COMPRESS_KILL_AT=partial|synced|renamed makes the compressor
// thread SIGKILL its own process at that step of its first compression (half of the .gz.tmp
// written; the .tmp complete and fsynced; renamed to .gz with the uncompressed file still there),
// so the tests can check what a kill at each step leaves. Unset in production.
enum class compress_step : std::uint8_t { none, partial, synced, renamed };
compress_step compress_kill_step() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
