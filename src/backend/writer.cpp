#include "backend/writer.h"

#include <cstdio>
#include <exception>

#include "backend/clock.h"
#include "core/shared.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

std::mutex& writer_mutex() noexcept {
  static std::mutex* m = new std::mutex;  // leaked: used at exit and in fork handlers
  return *m;
}

writer::writer(const options& opt) : fmt_(opt), flush_on_(opt.flush_on), on_error_(opt.error_handler) {
  for (const sink_ptr& s : opt.sinks) sinks_.push_back(sink_state{s, {}, 0, 0, false});
}

void writer::report(std::string_view msg) noexcept {
  try {
    if (on_error_) {
      on_error_(msg);
      return;
    }
  } catch (...) {
  }
  std::fprintf(stderr, "gidlog: %.*s\n", static_cast<int>(msg.size()), msg.data());
}

void writer::failed(sink_state& st, const char* what, const char* op) {
  shared().sink_errors.fetch_add(1, std::memory_order_relaxed);
  if (st.failures++ == 0) {
    std::size_t i = static_cast<std::size_t>(&st - sinks_.data());
    report(fmt::format("sink {} {} failed: {}; keeping its lines and retrying", i, op, what));
  }
  std::int64_t backoff_ms = std::min<std::int64_t>(1000, std::int64_t{10} << std::min<std::uint64_t>(st.failures, 7));
  st.next_retry_ns = tsc_clock::realtime_ns() + backoff_ms * 1'000'000;
}

void writer::recovered(sink_state& st) {
  if (st.failures == 0) return;
  std::size_t i = static_cast<std::size_t>(&st - sinks_.data());
  report(fmt::format("sink {} recovered after {} failed attempts", i, st.failures));
  st.failures = 0;
}

bool writer::drain_backlog(sink_state& st) {
  while (!st.backlog.empty()) {
    owned_line& l = st.backlog.front();
    log_line v = l.view;
    v.text = l.text;
    v.message = std::string_view(l.text).substr(l.msg_begin, l.msg_end - l.msg_begin);
    try {
      st.s->write(v);
    } catch (const std::exception& e) {
      failed(st, e.what(), "write");
      return false;
    } catch (...) {
      failed(st, "unknown exception", "write");
      return false;
    }
    st.backlog.pop_front();
    st.dirty = true;
  }
  recovered(st);
  return true;
}

void writer::deliver(sink_state& st, const log_line& line) {
  if (!st.backlog.empty() && line.time_ns >= st.next_retry_ns) drain_backlog(st);
  if (st.backlog.empty()) {
    try {
      st.s->write(line);
      st.dirty = true;
      return;
    } catch (const std::exception& e) {
      failed(st, e.what(), "write");
    } catch (...) {
      failed(st, "unknown exception", "write");
    }
  }
  owned_line o{line, std::string(line.text), static_cast<std::size_t>(line.message.data() - line.text.data()), 0};
  o.msg_end = o.msg_begin + line.message.size();
  st.backlog.push_back(std::move(o));
}

void writer::write(const record& r, std::int64_t wall_ns) {
  buf_.clear();
  auto res = fmt_.format(r, wall_ns, buf_);
  if (!res.format_ok) shared().format_errors.fetch_add(1, std::memory_order_relaxed);
  if (r.meta == &nomem_meta) shared().nomem.fetch_add(1, std::memory_order_relaxed);
  const site_info* site = res.site;
  const site_cache& sc = cache_of(*site);
  log_line line{site->level,
                r.gid,
                wall_ns,
                std::string_view(buf_.data(), buf_.size()),
                std::string_view(buf_.data() + res.msg_begin, res.msg_end - res.msg_begin),
                sc.file,
                site->line,
                sc.function,
                sc.logger.empty() ? std::string_view{fmt_.logger_name()} : sc.logger};
  for (sink_state& st : sinks_) deliver(st, line);
  shared().written.fetch_add(1, std::memory_order_relaxed);
  if (site->level >= flush_on_) flush_all();
}

bool writer::flush_one(sink_state& st) {
  if (!st.backlog.empty() && !drain_backlog(st)) return false;
  try {
    st.s->flush();
    st.dirty = false;
    recovered(st);
    return true;
  } catch (const std::exception& e) {
    failed(st, e.what(), "flush");
  } catch (...) {
    failed(st, "unknown exception", "flush");
  }
  return false;
}

void writer::flush_all() {
  for (sink_state& st : sinks_) flush_one(st);
}

void writer::on_idle() {
  std::int64_t now = -1;
  for (sink_state& st : sinks_) {
    if (st.failures != 0) {
      if (now < 0) now = tsc_clock::realtime_ns();
      if (now < st.next_retry_ns) continue;
      flush_one(st);
    } else if (st.dirty) {
      flush_one(st);
    }
  }
}

void writer::after_fork_child() noexcept {
  for (sink_state& st : sinks_) st.s->after_fork_child();
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
