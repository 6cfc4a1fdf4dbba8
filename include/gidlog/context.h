#pragma once
// Request context (MDC): fields that every record of this thread carries while a scope is open.
//
//   gidlog::context_scope scope{{"req", req_id}, {"user_id", 7}};
//   LOG_INFO("accepted");                  // carries req and user_id: %C in a pattern, "ctx" in JSON
//   pool.post([] { LOG_INFO("working"); }); // worker_pool and limiter carry it to the job's thread
//
// Scopes nest: an inner scope adds its fields and shadows a key it repeats; its destruction brings
// the outer fields back. Values are strings and integers. A record logged with no scope open costs
// one thread-local load more than before; with a scope, the record holds a pointer to an immutable
// snapshot of the fields, which the backend reads when it writes the record.
//
// To carry the context into code gidlog does not own (an async callback, a thread of your own):
//   auto ctx = gidlog::context::get();
//   std::thread t([ctx] { gidlog::context_scope s{ctx}; LOG_INFO("still req=r-42"); });
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <gidlog/field.h>

namespace gidlog {
inline namespace v0 {

// One value of a context entry: a string (copied) or an integer.
class context_value {
 public:
  context_value(std::string_view s) : str_(s), is_string_(true) {}  // NOLINT: implicit on purpose
  context_value(const char* s) : str_(s), is_string_(true) {}       // NOLINT
  context_value(const std::string& s) : str_(s), is_string_(true) {}  // NOLINT
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  context_value(T v) : signed_(std::is_signed_v<T>) {  // NOLINT
    if constexpr (std::is_signed_v<T>) i_ = static_cast<std::int64_t>(v);
    else u_ = static_cast<std::uint64_t>(v);
  }
  context_value(bool v) : is_bool_(true), b_(v) {}  // NOLINT

 private:
  friend class context_scope;
  std::string_view str_;
  bool is_string_ = false;
  bool signed_ = false;
  bool is_bool_ = false;
  bool b_ = false;
  std::int64_t i_ = 0;
  std::uint64_t u_ = 0;
};

// A key and its value, as written in a context_scope's braces.
struct context_field {
  std::string_view key;
  context_value value;
};

namespace detail {

// An immutable set of context fields, shared by the scopes, snapshots and queued records that
// point at it. Freed when the last holder lets go and the backend has written every record that
// points at it (src/core/context.cpp).
struct context_node {
  mutable std::atomic<std::uint32_t> refs{1};
  std::vector<field> fields;  // names and string values point into `storage`
  std::string storage;
  std::uint64_t retired_at = 0;  // cycle counter when refs reached 0
  context_node* next_retired = nullptr;
};

// This thread's current context, or nullptr; read by every LOG_* call.
__attribute__((visibility("default"), tls_model("initial-exec"))) inline thread_local const context_node*
    tl_context = nullptr;

// Frees n once no queued record can point at it (src/core/context.cpp).
void context_retire(const context_node* n) noexcept;

inline void context_acquire(const context_node* n) noexcept {
  if (n != nullptr) n->refs.fetch_add(1, std::memory_order_relaxed);
}
inline void context_release(const context_node* n) noexcept {
  if (n != nullptr && n->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) context_retire(n);
}

}  // namespace detail

class trace_context;  // <gidlog/trace_context.h>: a W3C trace context (trace id, span id, flags)

// A snapshot of a thread's context fields; cheap to copy (shared, immutable).
class context {
 public:
  context() noexcept = default;
  context(const context& o) noexcept : node_(o.node_) { detail::context_acquire(node_); }
  context(context&& o) noexcept : node_(o.node_) { o.node_ = nullptr; }
  context& operator=(context o) noexcept {
    std::swap(node_, o.node_);
    return *this;
  }
  ~context() { detail::context_release(node_); }

  // This thread's current fields.
  static context get() noexcept {
    context c;
    c.node_ = detail::tl_context;
    detail::context_acquire(c.node_);
    return c;
  }

  bool empty() const noexcept { return node_ == nullptr; }
  // Outer scopes' fields first; a key shadowed by an inner scope appears once, with its value.
  std::span<const field> fields() const noexcept {
    return node_ == nullptr ? std::span<const field>{} : std::span<const field>{node_->fields};
  }

 private:
  friend class context_scope;
  const detail::context_node* node_ = nullptr;
};

// Pushes fields onto this thread's context for the life of the scope. Not copyable or movable:
// scopes nest strictly on one thread.
class context_scope {
 public:
  context_scope(std::initializer_list<context_field> fields);
  // Installs a snapshot taken with context::get() (on this or another thread), on top of this
  // thread's own fields.
  explicit context_scope(const context& snapshot);
  // Puts a trace context on this thread (include <gidlog/trace_context.h>): the fields trace_id,
  // span_id and trace_flags (lowercase hex, as in a traceparent header), and parent_span_id when
  // it has a parent span (an outer scope's parent_span_id is hidden when it has none). Records
  // carry them like any other field; trace_context::current() reads them back.
  explicit context_scope(const trace_context& trace);
  context_scope(const context_scope&) = delete;
  context_scope& operator=(const context_scope&) = delete;
  ~context_scope();

 private:
  const detail::context_node* saved_;
  const detail::context_node* mine_;
};

}  // namespace v0
}  // namespace gidlog
