#pragma once
// Backend thread: formats records and hands lines to the sinks, keeping a backlog for a sink
// that fails and retrying it with back-off, bounded by options::sink_backlog_bytes (past it the
// oldest lines are dropped, counted, and announced in-band when the sink recovers). It also asks
// the sinks to reopen their files every options::reopen_check and after gidlog::reopen().
// Every call happens under the writer lock (writer_mutex()), so the backend loop and the
// synchronous paths never interleave.
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include <gidlog/detail/record.h>
#include <gidlog/options.h>

#include "backend/formatter.h"
#include "sinks/sigpipe.h"  // block_sigpipe_on_this_thread(), called first on the backend thread

namespace gidlog {
inline namespace v0 {
namespace detail {

class writer {
 public:
  explicit writer(const options& opt);

  // Formats r (wall-clock time `wall_ns`) and writes it to every sink; flushes after a record at
  // or above flush_on. Asks the sinks to reopen first when reopen_check is due (judged by
  // `wall_ns`, so a busy backend checks too) or gidlog::reopen() asked.
  void write(const record& r, std::int64_t wall_ns) {
    prepare(wall_ns);
    write_prepared(r, wall_ns);
  }
  // write() in two halves, for a batch: prepare() makes the checks due before writing (fork,
  // reopen) once, write_prepared() writes each record of the batch.
  void prepare(std::int64_t now_ns);
  void write_prepared(const record& r, std::int64_t wall_ns);
  // Serves a pending gidlog::reopen(), then flushes every sink (retrying failing ones now).
  void flush_all();
  // Records handed to the sinks since every sink last flushed them out; readable from any thread
  // (stop() counts them as unwritten when it gives up on a stalled sink).
  std::uint64_t unflushed() const noexcept { return unflushed_.load(std::memory_order_relaxed); }
  // For the crash handler on the backend thread: the sink being written or flushed when the
  // crash came is skipped from now on. False when no sink was being written (the crash was
  // elsewhere).
  bool disable_crashed_sink() noexcept;
  // Idle work: reopen when due, flush sinks written since the last flush, retry failing ones
  // when due.
  void on_idle();
  // CLOCK_REALTIME of the next retry of a failing sink (on_idle() makes it), or INT64_MAX when no
  // sink is failing: how long an idle backend may sleep.
  std::int64_t next_retry_ns() const noexcept;
  void after_fork_child() noexcept;
  void report(std::string_view msg) noexcept;

  // Lines sink `i` lost past options::sink_backlog_bytes since the writer was made.
  std::uint64_t dropped(std::size_t i) const noexcept { return sinks_[i].dropped_total; }
  // Bytes (line text) sink `i` keeps for its retries now; at most options::sink_backlog_bytes.
  std::size_t backlog_bytes(std::size_t i) const noexcept { return sinks_[i].backlog_bytes; }
  // For /debug/gidlog/stats, under the writer lock: the sinks and their failed calls since the
  // last success.
  std::size_t sink_count() const noexcept { return sinks_.size(); }
  const sink_ptr& sink_at(std::size_t i) const noexcept { return sinks_[i].s; }
  std::uint64_t failures(std::size_t i) const noexcept { return sinks_[i].failures; }

 private:
  // A line's fields and context, copied for a backlog: the originals die with the record.
  struct owned_fields {
    std::string text;  // names and string values; reserved up front, so the views stay put
    std::vector<field> fields, context;
  };
  struct owned_line {
    log_line view;  // string views re-pointed into `text` and `extra` when replayed
    std::string text;
    std::size_t msg_begin, msg_end;
    std::shared_ptr<owned_fields> extra;  // null: no fields and no context (shared: sink_state is copied)
  };
  struct sink_state {
    sink_ptr s;
    std::deque<owned_line> backlog;  // lines not yet taken, in order: the newest ones
    std::size_t backlog_bytes = 0;   // sum of backlog[i].text.size()
    std::size_t backlog_peak = 0;    // the most backlog_bytes since the last lost-lines notice
    std::uint64_t lost = 0;          // lines dropped before backlog.front(), not yet announced
    std::uint64_t dropped_total = 0;
    std::uint64_t failures = 0;      // since the last success
    std::int64_t next_retry_ns = 0;
    bool dirty = false;              // written since the last flush
    bool crashed = false;            // crashed the process; skipped while the crash handler drains
    const logger* owner = nullptr;   // a named logger's own sink; nullptr: options::sinks
  };
  // Something is waiting for this sink: the backlog or a lost-lines notice.
  static bool pending(const sink_state& st) noexcept { return !st.backlog.empty() || st.lost != 0; }
  // A record kept for a backtrace: its header, its payload and context copied (the originals are
  // freed once it leaves the queue), and the time it was logged.
  struct kept_record {
    record r;
    std::vector<unsigned char> spill;  // the payload when it was not inline
    std::shared_ptr<context_node> context;
    std::int64_t wall_ns;
  };
  // Writes r (not kept, not a dump) to the global sinks and/or those of logger `lg`.
  void write_line(const record& r, std::int64_t wall_ns, const logger* lg);
  void keep_for_backtrace(const record& r, std::int64_t wall_ns);
  // Writes the ring of logger `lg` (nullptr: the root), oldest first, and empties it.
  void dump_ring(const logger* lg);
  void refresh_logger_sinks();
  void deliver(sink_state& st, const log_line& line);
  // Hands `line` to the sink; a throw is reported and counted (failed()) and returns false.
  bool try_write(sink_state& st, const log_line& line);
  void keep(sink_state& st, const log_line& line);
  // Fills fields_ from the record just formatted.
  void collect_fields(const site_info& site);
  void collect_text_fields(std::span<const arg_value> args);
  void add_suppressed_field();
  bool drain_backlog(sink_state& st, std::int64_t now_ns);
  bool write_lost_notice(sink_state& st, std::int64_t now_ns);
  void failed(sink_state& st, const char* what, const char* op);
  void recovered(sink_state& st);
  bool flush_one(sink_state& st, std::int64_t now_ns);
  bool reopen_due(std::int64_t now_ns) const noexcept;
  void reopen_if_due(std::int64_t now_ns);
  void reopen_all(bool forced);
  void forget_backlogs_after_fork() noexcept;
  std::size_t index_of(const sink_state& st) const noexcept {
    return static_cast<std::size_t>(&st - sinks_.data());
  }

  line_formatter fmt_;
  std::vector<sink_state> sinks_;
  gidlog::level flush_on_;
  std::function<void(std::string_view)> on_error_;
  std::size_t backlog_cap_;
  std::int64_t reopen_every_ns_;  // 0: only on gidlog::reopen()
  // The time-based check is due outside [reopen_floor_ns_, next_reopen_ns_): at the next, or when
  // the clock was set back by more than the interval; INT64_MIN and INT64_MAX when it is off.
  // Lines carry their record's time, a little older than the idle path's: hence the slack.
  std::int64_t reopen_floor_ns_;
  std::int64_t next_reopen_ns_;
  bool forked_child_ = false;     // after_fork_child() ran: the backlogs are the parent's
  fmt::memory_buffer buf_;
  bool need_text_ = true;          // some sink reads log_line::text: format the whole pattern
  bool need_fields_ = false;       // some sink reads log_line::fields
  std::vector<field> fields_;      // the current record's fields, for log_line::fields
  const site_info* fields_site_ = nullptr;       // the site named_fields() was last asked for
  const std::vector<field>* site_fields_ = nullptr;  // ... and its answer
  fmt::memory_buffer field_text_;  // text of fields that are not strings in the record (pointers, user types)
  std::atomic<std::size_t> delivering_{SIZE_MAX};  // index of the sink in a write/flush call
  std::atomic<std::uint64_t> unflushed_{0};
  std::uint64_t logger_sinks_seen_ = 0;  // g_logger_sinks_version the sink list was built for
  std::size_t backtrace_capacity_;       // options::backtrace
  gidlog::level backtrace_trigger_;
  std::unordered_map<const logger*, std::deque<kept_record>> rings_;  // nullptr: the root logger
  fmt::memory_buffer notice_buf_;  // the lost-lines notice, formatted while buf_ holds a line
};

std::mutex& writer_mutex() noexcept;

// Whether a field's value is text held in `s` (copied when a line or a context is kept).
inline bool has_text(const field_value& v) noexcept {
  return v.type == field_value::kind::string || v.type == field_value::kind::json;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
