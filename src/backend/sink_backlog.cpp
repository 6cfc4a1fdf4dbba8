// A failing sink, for the writer (writer.h) under the writer lock, on the backend thread or a
// synchronous writer: the failure reported once and retried with back-off, the lines kept
// meanwhile (newest first, within options::sink_backlog_bytes), and on recovery the notice of
// how many were lost followed by the backlog.
#include <algorithm>
#include <cstdint>
#include <exception>

#include <fmt/format.h>

#include "backend/clock.h"
#include "backend/writer.h"
#include "core/shared.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

// The in-band notice a recovered sink gets before its first line after the gap.
constinit site_info lost_site{gidlog::level::warn, 0, "gidlog", "gidlog", "writer", nullptr,
                              "gidlog: sink {} lost {} lines while failing"};

}  // namespace

void writer::failed(sink_state& st, const char* what, const char* op) {
  shared().sink_errors.fetch_add(1, std::memory_order_relaxed);
  if (st.failures++ == 0)
    report(fmt::format("sink {} {} failed: {}; keeping its lines and retrying", index_of(st), op, what));
  std::int64_t backoff_ms = std::min<std::int64_t>(1000, std::int64_t{10} << std::min<std::uint64_t>(st.failures, 7));
  st.next_retry_ns = tsc_clock::realtime_ns() + backoff_ms * 1'000'000;
}

void writer::recovered(sink_state& st) {
  if (st.failures == 0) return;
  report(fmt::format("sink {} recovered after {} failed attempts", index_of(st), st.failures));
  st.failures = 0;
}

// Keeps `line` for a failing sink. The backlog holds the newest lines that fit in backlog_cap_
// bytes: the oldest go first, so what is kept is always one run without gaps, and the notice
// written at its front says how many lines came before it and were lost.
void writer::keep(sink_state& st, const log_line& line) {
  std::uint64_t dropped = 0;
  if (line.text.size() > backlog_cap_) {  // cannot be kept: nor can anything older than it
    dropped = st.backlog.size() + 1;
    st.backlog.clear();
    st.backlog_bytes = 0;
  } else {
    owned_line o{line, std::string(line.text), static_cast<std::size_t>(line.message.data() - line.text.data()), 0, {}};
    o.msg_end = o.msg_begin + line.message.size();
    if (!line.fields.empty() || !line.context.empty()) {
      o.extra = std::make_shared<owned_fields>();
      std::size_t bytes = 0;
      for (const auto* span : {&line.fields, &line.context})
        for (const field& f : *span) bytes += f.name.size() + (has_text(f.value) ? f.value.s.size() : 0);
      o.extra->text.reserve(bytes);
      auto copy = [&o](std::string_view v) {
        const std::size_t at = o.extra->text.size();
        o.extra->text += v;
        return std::string_view(o.extra->text).substr(at, v.size());
      };
      for (auto [in, out] : {std::pair{&line.fields, &o.extra->fields}, std::pair{&line.context, &o.extra->context}}) {
        for (field f : *in) {
          f.name = copy(f.name);
          if (has_text(f.value)) f.value.s = copy(f.value.s);
          out->push_back(f);
        }
      }
    }
    st.backlog_bytes += o.text.size();
    st.backlog.push_back(std::move(o));
    while (st.backlog_bytes > backlog_cap_) {
      st.backlog_bytes -= st.backlog.front().text.size();
      st.backlog.pop_front();
      ++dropped;
    }
  }
  st.backlog_peak = std::max(st.backlog_peak, st.backlog_bytes);
  if (dropped == 0) return;
  if (st.lost == 0)
    report(fmt::format("sink {} keeps failing and its backlog reached options::sink_backlog_bytes ({} bytes): "
                       "dropping its oldest lines",
                       index_of(st), backlog_cap_));
  st.lost += dropped;
  st.dropped_total += dropped;
  shared().sink_dropped.fetch_add(dropped, std::memory_order_relaxed);
}

// "gidlog: sink N lost M lines while failing", formatted like any record at WARN and stamped
// with the time of the first line after the gap, so the file stays in time order.
bool writer::write_lost_notice(sink_state& st, std::int64_t now_ns) {
  const std::int64_t t = st.backlog.empty() ? now_ns : st.backlog.front().view.time_ns;
  record r{};
  r.gid = gidlog::gid();
  encode_args<&lost_site>(r, std::uint64_t{index_of(st)}, st.lost);  // 16 bytes: never spills
  notice_buf_.clear();
  auto res = fmt_.format(r, t, notice_buf_);
  const site_cache& sc = cache_of(lost_site);
  log_line line{lost_site.level,
                r.gid,
                t,
                std::string_view(notice_buf_.data(), notice_buf_.size()),
                std::string_view(notice_buf_.data() + res.msg_begin, res.msg_end - res.msg_begin),
                sc.file,
                lost_site.line,
                sc.function,
                fmt_.logger_name(),
                lost_site.format,
                {},
                {}};
  if (!try_write(st, line)) return false;
  report(fmt::format("sink {} lost {} lines while failing (options::sink_backlog_bytes = {}; its backlog peaked at "
                     "{} bytes)",
                     index_of(st), st.lost, backlog_cap_, st.backlog_peak));
  st.lost = 0;
  st.backlog_peak = st.backlog_bytes;
  return true;
}

bool writer::drain_backlog(sink_state& st, std::int64_t now_ns) {
  if (st.lost != 0 && !write_lost_notice(st, now_ns)) return false;
  while (!st.backlog.empty()) {
    owned_line& l = st.backlog.front();
    log_line v = l.view;
    v.text = l.text;
    v.message = std::string_view(l.text).substr(l.msg_begin, l.msg_end - l.msg_begin);
    v.fields = l.extra ? std::span<const field>(l.extra->fields) : std::span<const field>{};
    v.context = l.extra ? std::span<const field>(l.extra->context) : std::span<const field>{};
    if (!try_write(st, v)) return false;
    st.backlog_bytes -= l.text.size();
    st.backlog.pop_front();
  }
  return true;  // recovered once a flush goes through: a buffering sink takes lines it cannot write
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
