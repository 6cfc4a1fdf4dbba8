// context_scope and its snapshots. A snapshot (context_node) is immutable once made: scopes,
// context objects and queued records point at it. Scopes and context objects count their
// references; records do not (that would cost the hot path an atomic). So a node whose count
// reaches zero is not freed at once but retired, with the time, and freed by the backend once it
// has written every record older than that time: a record pointing at the node was logged
// before the last reference went, so it is among them.
#include <gidlog/context.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include <gidlog/arch/cpu.h>
#include <gidlog/trace_context.h>

#include "core/shared.h"
#include "core/trace_fields.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

std::atomic<context_node*> g_retired{nullptr};  // pushed by any thread, taken by the reclaimer

std::mutex& reclaim_mutex() {
  static std::mutex m;
  return m;
}
std::vector<context_node*>& waiting() {  // taken from g_retired, not yet old enough to free; under reclaim_mutex()
  static auto* v = new std::vector<context_node*>;  // leaked: used until exit
  return *v;
}
std::atomic<bool> g_any_waiting{false};  // waiting() is not empty: read without the lock

void retire(context_node* n) noexcept {
  // Stopped: every record logged before now has been written (stop() drained the queue, and
  // synchronous writes finish inside the LOG_* call), so nothing can point at the node.
  if (shared().phase.load(std::memory_order_acquire) == lifecycle_phase::stopped) {
    delete n;
    return;
  }
  n->retired_at = arch::cycles();
  context_node* head = g_retired.load(std::memory_order_relaxed);
  do n->next_retired = head;
  while (!g_retired.compare_exchange_weak(head, n, std::memory_order_release, std::memory_order_relaxed));
}

// Adds (key, value) to `out`, replacing the value of an existing key; strings are appended to
// `text` and pointed at later (offsets in name.size()/s.size() are set by pack()).
struct pending_field {
  std::string key;
  field_value value;
  std::string str;
};

void put(std::vector<pending_field>& out, std::string_view key, const field_value& v, std::string_view str) {
  for (pending_field& f : out) {
    if (f.key == key) {
      f.value = v;
      f.str.assign(str);
      return;
    }
  }
  out.push_back({std::string(key), v, std::string(str)});
}

void drop(std::vector<pending_field>& out, std::string_view key) {
  std::erase_if(out, [&](const pending_field& f) { return f.key == key; });
}

void take(std::vector<pending_field>& out, const context_node* n) {
  if (n == nullptr) return;
  for (const field& f : n->fields) put(out, f.name, f.value, f.value.type == field_value::kind::string ? f.value.s : "");
}

context_node* pack(const std::vector<pending_field>& in) {
  auto* n = new context_node;
  std::size_t bytes = 0;
  for (const pending_field& f : in) bytes += f.key.size() + f.str.size();
  n->storage.reserve(bytes);  // the views below point into it: it must not grow again
  n->fields.reserve(in.size());
  for (const pending_field& f : in) {
    const std::size_t k = n->storage.size();
    n->storage += f.key;
    const std::size_t v = n->storage.size();
    n->storage += f.str;
    field out{std::string_view(n->storage).substr(k, f.key.size()), f.value};
    if (f.value.type == field_value::kind::string) out.value.s = std::string_view(n->storage).substr(v, f.str.size());
    n->fields.push_back(out);
  }
  return n;
}

}  // namespace

void context_retire(const context_node* n) noexcept { retire(const_cast<context_node*>(n)); }

void context_reclaim(std::uint64_t written_before) noexcept {
  if (g_retired.load(std::memory_order_relaxed) == nullptr && !g_any_waiting.load(std::memory_order_relaxed)) return;
  std::unique_lock<std::mutex> lock(reclaim_mutex(), std::try_to_lock);
  if (!lock.owns_lock()) return;
  std::vector<context_node*>& w = waiting();
  try {
    for (context_node* n = g_retired.exchange(nullptr, std::memory_order_acquire); n != nullptr;) {
      context_node* next = n->next_retired;
      w.push_back(n);
      n = next;
    }
  } catch (...) {
    g_any_waiting.store(!w.empty(), std::memory_order_relaxed);
    return;  // out of memory: the rest stays listed (leaked, never freed early)
  }
  auto old = std::partition(w.begin(), w.end(), [&](const context_node* n) { return n->retired_at >= written_before; });
  for (auto it = old; it != w.end(); ++it) delete *it;
  w.erase(old, w.end());
  g_any_waiting.store(!w.empty(), std::memory_order_relaxed);
}

void context_reclaim_all() noexcept { context_reclaim(UINT64_MAX); }

}  // namespace detail

context_scope::context_scope(std::initializer_list<context_field> fields) : saved_(detail::tl_context) {
  std::vector<detail::pending_field> all;
  detail::take(all, saved_);
  for (const context_field& f : fields) {
    const context_value& v = f.value;
    field_value fv;
    if (v.is_string_) {
      fv.type = field_value::kind::string;
    } else if (v.is_bool_) {
      fv.type = field_value::kind::boolean;
      fv.b = v.b_;
    } else if (v.signed_) {
      fv.type = field_value::kind::signed_integer;
      fv.i = v.i_;
    } else {
      fv.type = field_value::kind::unsigned_integer;
      fv.u = v.u_;
    }
    detail::put(all, f.key, fv, v.is_string_ ? v.str_ : std::string_view{});
  }
  mine_ = detail::pack(all);
  detail::tl_context = mine_;
}

context_scope::context_scope(const context& snapshot) : saved_(detail::tl_context) {
  if (saved_ == nullptr || snapshot.node_ == nullptr || snapshot.node_ == saved_) {
    mine_ = snapshot.node_ != nullptr ? snapshot.node_ : saved_;
    detail::context_acquire(mine_);
  } else {
    std::vector<detail::pending_field> all;
    detail::take(all, saved_);
    detail::take(all, snapshot.node_);
    mine_ = detail::pack(all);
  }
  detail::tl_context = mine_;
}

context_scope::context_scope(const trace_context& trace) : saved_(detail::tl_context) {
  if (!trace.valid()) {  // nothing to add: the outer context stays in effect
    mine_ = saved_;
    detail::context_acquire(mine_);
    return;
  }
  std::vector<detail::pending_field> all;
  detail::take(all, saved_);
  field_value fv;
  fv.type = field_value::kind::string;
  namespace names = detail::trace_field;
  detail::put(all, names::trace_id, fv, trace.trace_id());
  detail::put(all, names::span_id, fv, trace.span_id());
  const char flags[2] = {"0123456789abcdef"[trace.flags() >> 4], "0123456789abcdef"[trace.flags() & 0xf]};
  detail::put(all, names::trace_flags, fv, std::string_view(flags, 2));
  if (trace.has_parent()) {
    detail::put(all, names::parent_span_id, fv, trace.parent_span_id());
  } else {
    detail::drop(all, names::parent_span_id);  // an outer span's parent is not this span's
  }
  mine_ = detail::pack(all);
  detail::tl_context = mine_;
}

context_scope::~context_scope() {
  detail::tl_context = saved_;
  detail::context_release(mine_);
}

}  // namespace v0
}  // namespace gidlog
