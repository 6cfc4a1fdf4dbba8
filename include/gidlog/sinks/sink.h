#pragma once
// Sinks: where formatted lines go. The backend thread calls a sink; nothing else does, except
// the synchronous paths before start() and after stop(), which hold the backend's writer lock.
//
// A sink in 20 lines:
//
//   struct vector_sink final : gidlog::sink {
//     std::vector<std::string> lines;
//     void write(const gidlog::log_line& l) override { lines.emplace_back(l.text); }
//   };
//   opt.sinks = {std::make_shared<vector_sink>()};
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <gidlog/field.h>
#include <gidlog/level.h>

namespace gidlog {
inline namespace v0 {

// One record, formatted. Views are valid only during the call.
struct log_line {
  gidlog::level level;
  std::uint32_t gid;         // the logging thread's TID
  std::int64_t time_ns;      // wall-clock time, nanoseconds since the Unix epoch
  std::string_view text;     // the whole line per options::pattern, ending in '\n'
  std::string_view message;  // the formatted message alone
  std::string_view file;     // base name of the source file
  std::uint32_t line;
  std::string_view function;
  std::string_view logger;   // logger name: a named logger's, or options::name for LOG_*
  std::string_view format;   // the call site's format string as written, names included
  // The arguments, in order, with their names and typed values. Empty when the message was
  // formatted on the calling thread (an argument of a user type without deferred_format), and
  // when no sink of the logger wants_fields().
  std::span<const field> fields;
  // The logging thread's context_scope fields (outer scopes first, a shadowed key once).
  std::span<const field> context;
};

class sink {
 public:
  virtual ~sink() = default;

  // Called by gidlog::start() on the caller's thread, before any write. Throw to reject the
  // configuration: start() rethrows it as std::invalid_argument naming options::sinks[i].
  virtual void open() {}

  // Takes one line, in time order. Throwing means "not taken": the backend reports the error
  // once, counts it, keeps this line and every later one for this sink in order, and retries
  // with back-off until the sink takes them. Other sinks are unaffected.
  virtual void write(const log_line& line) = 0;

  // Makes what was written visible (write(2) the buffer). Called when the backend goes idle, on
  // gidlog::flush(), after a record at or above options::flush_on, and at stop(). May throw:
  // reported and retried like write().
  virtual void flush() {}

  // In a fork() child, before the child writes anything: forget bytes buffered but not yet
  // written, because the parent writes them. Must not allocate or lock.
  virtual void after_fork_child() noexcept {}

  // Called on the backend thread every options::reopen_check and after gidlog::reopen():
  // a sink writing to a path checks that the path still names its file and reopens it if not.
  // `forced`: gidlog::reopen() asked, reopen even if the path looks unchanged. May throw:
  // reported like write().
  virtual void reopen(bool forced) { (void)forced; }

  // False for a sink that never reads log_line::text (it builds its own line from the fields):
  // when no sink of the logger reads it, the backend skips the pattern and `text` holds just the
  // message. Asked once, at start().
  virtual bool wants_text() const noexcept { return true; }

  // Whether this sink reads log_line::fields: when no sink of the logger does, the backend leaves
  // them empty and saves the work. By default, a sink that does not read the text does (it is a
  // structured sink); a text sink that also wants the fields returns true. Asked once, at start().
  virtual bool wants_fields() const noexcept { return !wants_text(); }
};

using sink_ptr = std::shared_ptr<sink>;

struct file_sink_options {
  bool truncate = false;               // false: append to an existing file
  std::size_t buffer_bytes = 1 << 16;  // write(2) when this many bytes are pending; >= 1
  bool fsync_on_flush = false;         // fdatasync() on every flush (slow; for audit logs)
};

// Appends lines to `path` (created 0644 when missing, with its missing parent directories 0755,
// at open and again when a reopen finds the directory removed: file_sink("logs/app/app.log")).
// Buffered; writes on flush and when the buffer fills. On a write error the unwritten bytes stay
// buffered and write() throws std::system_error naming the file; writing resumes where it stopped
// once the error clears. An empty path or a directory that cannot be made or written is reported
// by gidlog::start() as std::invalid_argument naming options::sinks.
sink_ptr file_sink(std::string path, file_sink_options opts = {});

enum class console_stream : std::uint8_t { out, err };
enum class color_mode : std::uint8_t { automatic, always, never };

// Writes to stdout (default) or stderr. Colours by level only when the stream is a terminal
// (color_mode::automatic) unless told otherwise.
sink_ptr console_sink(console_stream stream = console_stream::out, color_mode color = color_mode::automatic);

}  // namespace v0
}  // namespace gidlog
