// Backend thread, the writer's per-logger parts: named loggers' own sinks and the backtrace rings.
#include <algorithm>
#include <utility>

#include <gidlog/context.h>
#include <gidlog/logger.h>

#include "backend/writer.h"
#include "core/loggers.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

// The sink list: options::sinks first, as given, then each named logger's own sinks. A sink
// already in the list keeps its state (a failing sink's backlog) across a rebuild.
void writer::refresh_logger_sinks() {
  logger_sinks_seen_ = g_logger_sinks_version.load(std::memory_order_acquire);
  const std::vector<logger_sinks> snap = logger_sink_snapshot();
  std::vector<sink_state> next;
  std::vector<sink_state> old_owned;
  for (sink_state& st : sinks_) (st.owner == nullptr ? next : old_owned).push_back(std::move(st));
  for (const logger_sinks& ls : snap) {
    for (const sink_ptr& s : ls.sinks) {
      auto it = std::find_if(old_owned.begin(), old_owned.end(),
                             [&](const sink_state& st) { return st.owner == ls.lg && st.s == s; });
      if (it != old_owned.end()) {
        next.push_back(std::move(*it));
        old_owned.erase(it);
      } else {
        next.emplace_back();
        next.back().s = s;
        next.back().owner = ls.lg;
      }
    }
  }
  for (sink_state& st : old_owned) {  // dropped from its logger: flush what it has
    try {
      st.s->flush();
    } catch (...) {
    }
  }
  sinks_ = std::move(next);
  need_text_ = false;
  need_fields_ = false;
  for (const sink_state& st : sinks_) {
    need_text_ = need_text_ || st.s->wants_text();
    need_fields_ = need_fields_ || st.s->wants_fields();
  }
}

namespace {

// A copy of a context snapshot that no reclaim can free: names and strings in its own storage.
std::shared_ptr<context_node> copy_context(const context_node* c) {
  if (c == nullptr) return nullptr;
  auto n = std::make_shared<context_node>();
  std::size_t bytes = 0;
  for (const field& f : c->fields) bytes += f.name.size() + (has_text(f.value) ? f.value.s.size() : 0);
  n->storage.reserve(bytes);  // no reallocation below: the views stay put
  auto keep = [&n](std::string_view v) {
    const std::size_t at = n->storage.size();
    n->storage += v;
    return std::string_view(n->storage).substr(at, v.size());
  };
  for (field f : c->fields) {
    f.name = keep(f.name);
    if (has_text(f.value)) f.value.s = keep(f.value.s);
    n->fields.push_back(f);
  }
  return n;
}

}  // namespace

void writer::keep_for_backtrace(const record& r, std::int64_t wall_ns) {
  if (backtrace_capacity_ == 0) return;  // kept by a gate set for an earlier start()
  const logger* lg = (r.meta->flags & meta_logger) ? view_payload(r).lg : nullptr;
  std::deque<kept_record>& ring = rings_[lg];
  while (ring.size() >= backtrace_capacity_) ring.pop_front();
  kept_record k{r, {}, copy_context(r.context), wall_ns};
  if (r.size > record::inline_capacity) k.spill.assign(r.payload.spill, r.payload.spill + r.size);
  ring.push_back(std::move(k));
}

void writer::dump_ring(const logger* lg) {
  auto it = rings_.find(lg);
  if (it == rings_.end() || it->second.empty()) return;
  std::deque<kept_record> ring;
  ring.swap(it->second);  // a record written below cannot land in the ring being written
  fmt_.set_replaying(true);
  try {
    for (kept_record& k : ring) {
      record r = k.r;
      if (r.size > record::inline_capacity) r.payload.spill = k.spill.data();
      r.context = k.context.get();
      write_line(r, k.wall_ns, lg);
    }
  } catch (...) {
    fmt_.set_replaying(false);
    throw;
  }
  fmt_.set_replaying(false);
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
