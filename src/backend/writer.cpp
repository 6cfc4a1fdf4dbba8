// The writer (writer.h), on the backend thread or a synchronous writer, always under the writer
// lock: formats each record once and hands the line to every sink, flushes, reopens. What a
// failing sink's lines go through (the backlog, the lost notice, the retry) is in sink_backlog.cpp.
#include "backend/writer.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <exception>

#include <gidlog/context.h>
#include <gidlog/gid.h>

#include "backend/clock.h"
#include "backend/crash_record.h"
#include "core/loggers.h"
#include "core/shared.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

std::mutex& writer_mutex() noexcept {
  static std::mutex* m = new std::mutex;  // leaked: used at exit and in fork handlers
  return *m;
}

writer::writer(const options& opt)
    : fmt_(opt),
      flush_on_(opt.flush_on),
      on_error_(opt.error_handler),
      backlog_cap_(opt.sink_backlog_bytes),
      // Capped at 2^40 ms (35 years) so the deadline arithmetic cannot overflow.
      reopen_every_ns_(std::min<std::int64_t>(opt.reopen_check.count(), std::int64_t{1} << 40) * 1'000'000),
      reopen_floor_ns_(INT64_MIN),
      next_reopen_ns_(INT64_MAX),
      backtrace_capacity_(opt.backtrace.capacity),
      backtrace_trigger_(opt.backtrace.trigger) {
  need_text_ = false;
  for (const sink_ptr& s : opt.sinks) {
    sinks_.emplace_back();
    sinks_.back().s = s;
    need_text_ = need_text_ || s->wants_text();
    need_fields_ = need_fields_ || s->wants_fields();
  }
  if (reopen_every_ns_ > 0) {
    const std::int64_t now = tsc_clock::realtime_ns();
    reopen_floor_ns_ = now - reopen_every_ns_;
    next_reopen_ns_ = now + reopen_every_ns_;
  }
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

void writer::deliver(sink_state& st, const log_line& line) {
  if (pending(st)) [[unlikely]] {
    if (line.time_ns >= st.next_retry_ns) drain_backlog(st, line.time_ns);
    if (pending(st)) {
      keep(st, line);
      return;
    }
  }
  if (!try_write(st, line)) keep(st, line);
}

bool writer::try_write(sink_state& st, const log_line& line) {
  try {
    st.s->write(line);
    st.dirty = true;
    return true;
  } catch (const std::exception& e) {
    failed(st, e.what(), "write");
  } catch (...) {
    failed(st, "unknown exception", "write");
  }
  return false;
}

bool writer::reopen_due(std::int64_t now_ns) const noexcept {
  // reopen_requested shares its cache line with counters this thread writes: the load is cheap.
  return now_ns >= next_reopen_ns_ || now_ns < reopen_floor_ns_ ||
         shared().reopen_requested.load(std::memory_order_relaxed);
}

void writer::reopen_if_due(std::int64_t now_ns) {
  if (shared().reopen_requested.load(std::memory_order_relaxed) &&
      shared().reopen_requested.exchange(false, std::memory_order_acquire)) {
    reopen_all(true);
  } else if (reopen_every_ns_ > 0 && (now_ns >= next_reopen_ns_ || now_ns < reopen_floor_ns_)) {
    reopen_all(false);
  } else {
    return;
  }
  if (reopen_every_ns_ > 0) {
    reopen_floor_ns_ = now_ns - reopen_every_ns_;
    next_reopen_ns_ = now_ns + reopen_every_ns_;
  }
}

void writer::reopen_all(bool forced) {
  for (sink_state& st : sinks_) {
    try {
      st.s->reopen(forced);
    } catch (const std::exception& e) {
      failed(st, e.what(), "reopen");
      continue;
    } catch (...) {
      failed(st, "unknown exception", "reopen");
      continue;
    }
    if (forced && st.failures != 0) st.next_retry_ns = 0;  // asked to reopen: retry at once
  }
}

void writer::forget_backlogs_after_fork() noexcept {
  // The parent still holds these lines and writes them; the child writing them too would
  // duplicate them. Runs in the child's normal context (not in the fork handler): clear() frees.
  for (sink_state& st : sinks_) {
    st.backlog.clear();
    st.backlog_bytes = 0;
    st.backlog_peak = 0;
    st.lost = 0;
  }
  forked_child_ = false;
}

void writer::prepare(std::int64_t now_ns) {
  if (forked_child_) [[unlikely]]
    forget_backlogs_after_fork();
  if (reopen_due(now_ns)) [[unlikely]]
    reopen_if_due(now_ns);
}

void writer::collect_fields(const site_info& site) {
  const std::span<const arg_value> args = fmt_.last_args();
  if (args.empty() || !need_fields_) {
    fields_.clear();
    if (need_fields_ && fmt_.last_suppressed() != 0) add_suppressed_field();
    return;
  }
  if (site.level == level::fatal && crash_record_fields(site, args, fields_, field_text_)) [[unlikely]]
    return;
  if (&site != fields_site_) {  // consecutive records often share a site
    site_fields_ = &named_fields(site, static_cast<unsigned>(args.size()));
    fields_site_ = &site;
  }
  fields_.assign(site_fields_->begin(), site_fields_->end());
  bool text = false;  // some values are text made here, in field_text_
  for (std::size_t i = 0; i < args.size(); ++i) {
    const arg_value& a = args[i];
    field_value& v = fields_[i].value;
    switch (a.kind) {
      case arg_kind::boolean: v.type = field_value::kind::boolean; v.b = a.b; break;
      case arg_kind::character: v.s = std::string_view(&a.c, 1); break;
      case arg_kind::i32: case arg_kind::i64: v.type = field_value::kind::signed_integer; v.i = a.i; break;
      case arg_kind::u32: case arg_kind::u64: v.type = field_value::kind::unsigned_integer; v.u = a.u; break;
      case arg_kind::f32: v.type = field_value::kind::floating; v.d = a.f; break;
      case arg_kind::f64: v.type = field_value::kind::floating; v.d = a.d; break;
      case arg_kind::f80: v.type = field_value::kind::floating; v.d = static_cast<double>(a.ld); break;
      case arg_kind::string: v.s = a.s; break;
      case arg_kind::pointer: case arg_kind::custom: text = true; break;
    }
  }
  if (text) collect_text_fields(args);
  if (fmt_.last_suppressed() != 0) add_suppressed_field();
}

void writer::add_suppressed_field() {
  field f{"suppressed", {}};
  f.value.type = field_value::kind::unsigned_integer;
  f.value.u = fmt_.last_suppressed();
  fields_.push_back(f);
}

// Pointers and deferred_format values become their "{}" text. field_text_ may grow while they
// are appended: the views are set once it is complete.
void writer::collect_text_fields(std::span<const arg_value> args) {
  field_text_.clear();
  std::size_t begin[256], end[256];
  for (std::size_t i = 0; i < args.size(); ++i) {
    const arg_value& a = args[i];
    if (a.kind != arg_kind::pointer && a.kind != arg_kind::custom) continue;
    begin[i] = field_text_.size();
    try {
      append_plain(field_text_, a);
    } catch (const std::exception& e) {
      field_text_.resize(begin[i]);
      fmt::format_to(fmt::appender(field_text_), "[gidlog: formatting threw: {}]", e.what());
    } catch (...) {
      field_text_.resize(begin[i]);
      append(field_text_, "[gidlog: formatting threw: unknown exception]");
    }
    end[i] = field_text_.size();
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i].kind == arg_kind::pointer || args[i].kind == arg_kind::custom)
      fields_[i].value.s = std::string_view(field_text_.data() + begin[i], end[i] - begin[i]);
  }
}

void writer::write_prepared(const record& r, std::int64_t wall_ns) {
  const std::uint8_t flags = r.meta->flags;  // 0 for the control metas (nomem)
  if (g_logger_sinks_version.load(std::memory_order_acquire) != logger_sinks_seen_) [[unlikely]]
    refresh_logger_sinks();
  if (flags == 0 && backtrace_capacity_ == 0) [[likely]] {
    write_line(r, wall_ns, nullptr);
    return;
  }
  if (flags & meta_dump) {
    for (auto& [lg, ring] : rings_) dump_ring(lg);
    return;
  }
  if (flags & meta_kept) {
    keep_for_backtrace(r, wall_ns);
    return;
  }
  const logger* lg = (flags & meta_logger) ? view_payload(r).lg : nullptr;
  if (backtrace_capacity_ != 0 && r.meta != &nomem_meta && r.meta->site->level >= backtrace_trigger_) dump_ring(lg);
  write_line(r, wall_ns, lg);
}

void writer::write_line(const record& r, std::int64_t wall_ns, const logger* lg) {
  buf_.clear();
  auto res = need_text_ ? fmt_.format(r, wall_ns, buf_) : fmt_.format_message_only(r, buf_);
  if (!res.format_ok) shared().format_errors.fetch_add(1, std::memory_order_relaxed);
  if (r.meta == &nomem_meta) shared().nomem.fetch_add(1, std::memory_order_relaxed);
  const site_info* site = res.site;
  const site_cache& sc = cache_of(*site);
  collect_fields(*site);
  log_line line{site->level,
                r.gid,
                wall_ns,
                std::string_view(buf_.data(), buf_.size()),
                std::string_view(buf_.data() + res.msg_begin, res.msg_end - res.msg_begin),
                sc.file,
                site->line,
                sc.function,
                fmt_.logger_name(r, sc),
                site->format,
                fields_,
                r.context != nullptr ? std::span<const field>(r.context->fields) : std::span<const field>{}};
  const bool to_global = lg == nullptr || logger_access::additive(*lg);
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    if (sinks_[i].crashed) [[unlikely]]
      continue;
    if (sinks_[i].owner == nullptr ? !to_global : sinks_[i].owner != lg) continue;
    delivering_.store(i, std::memory_order_relaxed);
    deliver(sinks_[i], line);
  }
  delivering_.store(SIZE_MAX, std::memory_order_relaxed);
  // Every writer call is made under the writer lock: a plain increment, no locked instruction.
  std::atomic<std::uint64_t>& written = shared().written;
  written.store(written.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  unflushed_.store(unflushed_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (site->level >= flush_on_) flush_all();
}

bool writer::disable_crashed_sink() noexcept {
  std::size_t i = delivering_.exchange(SIZE_MAX, std::memory_order_relaxed);
  if (i >= sinks_.size()) return false;
  sinks_[i].crashed = true;
  return true;
}

bool writer::flush_one(sink_state& st, std::int64_t now_ns) {
  if (st.crashed) return true;
  delivering_.store(static_cast<std::size_t>(&st - sinks_.data()), std::memory_order_relaxed);
  struct done_with_sink {
    std::atomic<std::size_t>& d;
    ~done_with_sink() { d.store(SIZE_MAX, std::memory_order_relaxed); }
  } done{delivering_};
  if (pending(st) && !drain_backlog(st, now_ns)) return false;
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
  if (forked_child_) forget_backlogs_after_fork();
  const std::int64_t now = tsc_clock::realtime_ns();
  // So that gidlog::reopen() then gidlog::flush() returns with the files reopened.
  if (shared().reopen_requested.load(std::memory_order_relaxed)) reopen_if_due(now);
  bool all = true;
  for (sink_state& st : sinks_) all = flush_one(st, now) && all;
  if (all) unflushed_.store(0, std::memory_order_relaxed);
}

void writer::on_idle() {
  if (forked_child_) forget_backlogs_after_fork();
  const std::int64_t now = tsc_clock::realtime_ns();
  if (reopen_due(now)) reopen_if_due(now);
  for (sink_state& st : sinks_) {
    if (st.failures != 0) {
      if (now < st.next_retry_ns) continue;
      flush_one(st, now);
    } else if (st.dirty) {
      flush_one(st, now);
    }
  }
  bool clean = true;
  for (const sink_state& st : sinks_) clean = clean && st.failures == 0 && !st.dirty;
  if (clean) unflushed_.store(0, std::memory_order_relaxed);
}

std::int64_t writer::next_retry_ns() const noexcept {
  std::int64_t t = INT64_MAX;
  for (const sink_state& st : sinks_)
    if (st.failures != 0 && !st.crashed) t = std::min(t, st.next_retry_ns);
  return t;
}

void writer::after_fork_child() noexcept {
  for (sink_state& st : sinks_) st.s->after_fork_child();
  forked_child_ = true;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
