#pragma once
// Backend thread: the file behind file_sink, rotating_file_sink and json_sink. A buffer in front
// of a file opened O_APPEND; the path is opened again when the file it names is no longer ours
// (deleted, or moved away by logrotate), and, with a rotation, the file is renamed away by size
// or at a local time of day (include/gidlog/sinks/rotating_file.h says how the files are named). The
// rotated files are rotated_files' (sinks/rotated_files.h): compressed by the compressor thread,
// pruned by retention.
//
// States: open (fd_ >= 0); closed (fd_ < 0) after the path could not be opened again, when every
// append() and flush() tries to open it and throws while it cannot, so the writer keeps the lines
// and retries. Bytes in the buffer always go to the file the path names when they are written,
// except those taken before a rename (logrotate's or our rotation), which finish the renamed file.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <gidlog/sinks/json.h>
#include <gidlog/sinks/file.h>

#include "sinks/fd_buffer.h"
#include "sinks/rotated_files.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

class log_file {
 public:
  // `sink_name` prefixes open()'s errors ("json_sink: ..."); `rotation_name` names the rotation
  // field in them ("rotation", "json_sink_options::rotation").
  log_file(std::string path, file_sink_options opts, std::optional<rotation> rot, const char* sink_name,
           const char* rotation_name);
  ~log_file();
  log_file(const log_file&) = delete;
  log_file& operator=(const log_file&) = delete;

  // Checks the options and opens the file; throws std::invalid_argument saying what is wrong.
  void open();
  // Takes one whole line stamped `time_ns` (the record's wall-clock time, which daily rotation
  // goes by). Throws std::system_error when the line cannot be taken (the file cannot be opened,
  // the buffer cannot be written to make room, a rotation's rename fails): nothing of it is kept.
  void append(std::string_view line, std::int64_t time_ns);
  // The same for a line written in place: room for at most `bound` bytes, then commit_line() of
  // the n bytes written there (valid until the next call on this log_file).
  char* line_room(std::size_t bound) { return buf_.room(bound); }
  void commit_line(std::size_t n, std::int64_t time_ns);
  void flush();
  void reopen(bool forced);
  void after_fork_child() noexcept { buf_.clear(); }

 private:
  void drain(std::size_t tail = 0);
  void open_again();
  void close_fd() noexcept;
  bool unlinked() const noexcept;
  bool names_our_file() const noexcept;
  bool rotation_due(std::size_t line_size, std::int64_t time_ns) const noexcept;
  void rotate(std::int64_t time_ns, std::size_t tail);
  void after_rotation() noexcept;
  void recover_rotated() noexcept;
  std::int64_t next_daily_after(std::int64_t time_ns) const;

  std::string path_;
  std::string stem_, ext_;  // path_ == stem_ + ext_; rotated file i is stem_ + "." + i + ext_
  file_sink_options opts_;
  std::optional<rotation> rot_;
  std::shared_ptr<rotated_files> files_;  // with rot_: shared with the compressor thread
  const char* sink_name_;
  const char* rotation_name_;
  int fd_ = -1;
  bool opened_ = false;
  std::uint64_t file_bytes_ = 0;            // the live file's size when last opened or written
  std::int64_t next_daily_ns_ = INT64_MAX;  // the next daily rotation; INT64_MAX: none
  fd_buffer buf_;
};

// A sink writing to one log_file: everything but write(), which says what a line is.
class file_backed_sink : public sink {
 public:
  file_backed_sink(std::string path, file_sink_options opts, std::optional<rotation> rot, const char* sink_name,
                   const char* rotation_name)
      : file_(std::move(path), opts, std::move(rot), sink_name, rotation_name) {}
  void open() override { file_.open(); }
  void flush() override { file_.flush(); }
  void reopen(bool forced) override { file_.reopen(forced); }
  void after_fork_child() noexcept override { file_.after_fork_child(); }

 protected:
  log_file file_;
};

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
