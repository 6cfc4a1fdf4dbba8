#pragma once
// The sink interface: where formatted lines go, and all a custom sink needs (log_line, sink,
// sink_ptr). The backend thread calls a sink; nothing else does, except the synchronous paths
// before start() and after stop(), which hold the backend's writer lock. gidlog's own sinks have
// a header each beside this one: console.h, file.h, rotating_file.h, json.h, syslog.h, journald.h.
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

}  // namespace v0
}  // namespace gidlog
