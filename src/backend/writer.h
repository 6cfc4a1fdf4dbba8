#pragma once
// Backend thread: formats records and hands lines to the sinks, keeping a backlog for a sink
// that fails and retrying it with back-off. Every call happens under the writer lock
// (writer_mutex()), so the backend loop and the synchronous paths never interleave.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gidlog/detail/record.h>
#include <gidlog/options.h>

#include "backend/formatter.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

class writer {
 public:
  explicit writer(const options& opt);

  // Formats r (wall-clock time `wall_ns`) and writes it to every sink; flushes after a record at
  // or above flush_on.
  void write(const record& r, std::int64_t wall_ns);
  // Flushes every sink (retrying failing ones now).
  void flush_all();
  // Idle work: flush sinks written since the last flush, retry failing ones when due.
  void on_idle();
  void after_fork_child() noexcept;
  void report(std::string_view msg) noexcept;

 private:
  struct owned_line {
    log_line view;  // string views re-pointed into `text` when replayed
    std::string text;
    std::size_t msg_begin, msg_end;
  };
  struct sink_state {
    sink_ptr s;
    std::deque<owned_line> backlog;  // lines not yet taken, in order
    std::uint64_t failures = 0;      // since the last success
    std::int64_t next_retry_ns = 0;
    bool dirty = false;              // written since the last flush
  };
  void deliver(sink_state& st, const log_line& line);
  bool drain_backlog(sink_state& st);
  void failed(sink_state& st, const char* what, const char* op);
  void recovered(sink_state& st);
  bool flush_one(sink_state& st);

  line_formatter fmt_;
  std::vector<sink_state> sinks_;
  gidlog::level flush_on_;
  std::function<void(std::string_view)> on_error_;
  fmt::memory_buffer buf_;
};

std::mutex& writer_mutex() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
