#pragma once
// The caller side of a LOG_* call: the hot path. Internal.
//
// Per call: one relaxed level load (in the macro), one store publishing a lower bound of this
// record's timestamp, one relaxed load of the logger generation, the cycle counter, gid(), a
// memcpy of the arguments into a 64-byte record and a try_enqueue with this thread's producer
// token. No lock, no allocation (except a spill for arguments larger than the record), no
// formatting for built-in argument types.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <string_view>

#include <fmt/core.h>

#include <gidlog/context.h>
#include <gidlog/detail/call_gate.h>
#include <gidlog/detail/format_names.h>
#include <gidlog/detail/record.h>
#include <gidlog/gid.h>
#include <gidlog/arch/cpu.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

inline constexpr std::uint64_t not_in_flight = UINT64_MAX;

// One per thread that logs, kept for the life of the process and reused after the thread exits.
// Only the owning thread writes it, except `in_use`/`next` (registry) and the backend's reads.
struct alignas(64) producer {
  // Lower bound of the timestamp of the record this thread is enqueueing, or not_in_flight.
  // The backend never writes a record newer than the smallest of these, so a thread preempted
  // between reading the clock and enqueueing cannot land out of order in the file.
  std::atomic<std::uint64_t> in_flight{not_in_flight};
  std::uint64_t last_ts = 0;               // this thread's previous timestamp: a valid lower bound
  std::uint32_t gen = 0;                   // logger generation the token belongs to (owner only)
  // `gen` again, published after `token` for the backend, which dequeues through the token.
  std::atomic<std::uint32_t> published_gen{0};
  std::atomic<std::uint64_t> dropped{0};   // records discarded by queue_policy::drop
  void* token = nullptr;                   // moodycamel::ProducerToken* for queue `gen`
  void* queue = nullptr;                   // the queue that token belongs to
  std::atomic<bool> in_use{false};
  producer* next = nullptr;                // registry list, push-only
  void* alt_stack = nullptr;               // the owning thread's alternate signal stack (mmap'ed)
  bool fresh_token = false;                // no record enqueued yet with this generation's token
};

// The three variables below are inline so the hot path reads them directly, and have default
// visibility explicitly: a plugin or shared object compiled with -fvisibility=hidden would
// otherwise keep private copies (and ignore set_level). With it, the dynamic linker binds every
// module to the one copy of the executable or of libgidlog.so (tests/integration/hidden_plugin.cpp).
#define GIDLOG_DETAIL_SHARED_STATE __attribute__((visibility("default")))

// The run-time level: records below it are discarded on the caller.
GIDLOG_DETAIL_SHARED_STATE inline std::atomic<std::uint8_t> g_level{static_cast<std::uint8_t>(level::info)};
// Logger generation: 0 while stopped (records go to the synchronous path), else the number of
// the current start(); a thread's token is valid only for the generation it was made in.
GIDLOG_DETAIL_SHARED_STATE inline std::atomic<std::uint32_t> g_gen{0};
// This thread's producer; initial-exec TLS so the hot path reads it with one %fs-relative load.
GIDLOG_DETAIL_SHARED_STATE __attribute__((tls_model("initial-exec"))) inline thread_local producer* tl_producer =
    nullptr;

// Levels below GIDLOG_ACTIVE_LEVEL are compiled out; LOG_FATAL never is.
constexpr bool compiled_in(level l) noexcept {
  return l == level::fatal || static_cast<int>(l) - GIDLOG_ACTIVE_LEVEL >= 0;
}

// LOG_FATAL is written and aborts whatever the run-time level, `off` included.
inline bool enabled(level l) noexcept {
  return static_cast<std::uint8_t>(l) >= g_level.load(std::memory_order_relaxed) || l == level::fatal;
}

// Out of line (src/frontend): attach or refresh this thread's producer for the running logger,
// returning it with in_flight published, or nullptr when the logger is not running.
producer* attach_producer() noexcept;
// Out of line (src/frontend): enqueue r, applying options::queue_policy when the queue is full.
void enqueue(producer& p, record& r) noexcept;
// Out of line (src/backend): format r now and write it to the current sinks, or stderr before
// the first start(); takes the backend's writer lock.
void write_sync(record& r) noexcept;
// LOG_FATAL: write everything queued (bounded by options::crash_drain_timeout), then abort.
[[noreturn]] void fatal_abort() noexcept;
// Out of line and cold (src/frontend): a LOG_* call interrupted this thread's own LOG_* call
// (a signal handler): the record is dropped and counted, never mixed into the other.
void reentrant_drop() noexcept;

// Enqueues r for a producer attached with in_flight published, then leaves flight.
inline void submit(producer& p, record& r) noexcept {
  p.in_flight.store(r.ts, std::memory_order_relaxed);  // lets the watermark pass while we wait
  enqueue(p, r);
  p.last_ts = r.ts;
  p.in_flight.store(not_in_flight, std::memory_order_release);
}

template <class T>
void format_deferred(void* buffer, std::string_view format, const unsigned char* bytes, std::size_t) {
  alignas(T) unsigned char storage[sizeof(T)];
  std::memcpy(storage, bytes, sizeof(T));
  const T& value = *std::launder(reinterpret_cast<const T*>(storage));
  auto& out = *static_cast<fmt::detail::buffer<char>*>(buffer);
  fmt::vformat_to(fmt::appender(out), fmt::string_view(format.data(), format.size()), fmt::make_format_args(value));
}

// Caller-side formatting for argument types that are not copied as values: into a stack buffer,
// or a std::string when longer. A formatter that throws, or a run-time format string that does
// not fit its arguments, yields a message saying so (and a count in
// get_counters().format_errors), encoded with `meta` and `x`; `format` is the format string.
// `e`: what was thrown (nullptr: not a std::exception). With a run-time format string, a
// fmt::format_error is the string not fitting the arguments: "format error", as the backend says.
void encode_format_failure(record& r, const record_meta* meta, const call_extras& x, std::string_view format,
                           bool runtime, const std::exception* e) noexcept;

// The format string of a LOG_* call, checked at compile time: names well formed (strip_names,
// in the macro), one argument per placeholder, and each spec valid for its argument's type
// (fmt's own check, on the text without the names).
template <class... A>
struct checked_format {
  std::string_view text;  // names removed
  consteval checked_format(std::string_view stripped) : text(stripped) {  // NOLINT: implicit
    const format_scan r = scan_format(stripped, nullptr, nullptr, 0);
    report_format_problem(r.problem);
    if (r.arguments != sizeof...(A)) gidlog_format_error_argument_count_differs_from_placeholders();
    (void)fmt::format_string<check_type_t<A>...>(stripped);
  }
};

template <const site_info* Site, std::uint8_t Flags, class... A>
void preformat(record& r, bool kept, const call_extras& x, std::string_view f, const A&... args) noexcept {
  const record_meta* meta = kept ? &preformatted_meta_v<Site, Flags | meta_kept> : &preformatted_meta_v<Site, Flags>;
  const std::string_view shown = (Flags & meta_runtime) ? f : Site->format;  // for a failure note
  try {
    char stack[256];
    auto res = fmt::vformat_to_n(stack, sizeof stack, fmt::string_view(f), fmt::make_format_args(caller_arg(args)...));
    if (res.size <= sizeof stack) {
      encode_text(r, meta, {stack, res.size}, x);
    } else {
      encode_text(r, meta, fmt::vformat(fmt::string_view(f), fmt::make_format_args(caller_arg(args)...)), x);
    }
  } catch (const std::exception& e) {
    encode_format_failure(r, meta, x, shown, (Flags & meta_runtime) != 0, &e);
  } catch (...) {
    encode_format_failure(r, meta, x, shown, false, nullptr);
  }
}

// The record's payload: the arguments as values when every one travels as a value, else the
// message formatted here. A run-time format string (meta_runtime) travels with the values.
template <const site_info* Site, std::uint8_t Flags, class... A>
void encode_call(record& r, std::uint8_t action, const call_extras& x, std::string_view f, const A&... args) noexcept {
  const bool kept = static_cast<std::int8_t>(action) < 0;  // keep_action
  if constexpr (all_deferred_v<A...>) {
    encode_flagged<Site, Flags>(r, kept, x, args...);
  } else {
    preformat<Site, Flags>(r, kept, x, f, args...);
  }
}

// One LOG_* call that passed its level gate with `action` (write_action or keep_action).
template <const site_info* Site, std::uint8_t Flags, class... A>
void log_call(std::uint8_t action, const call_extras& x, std::string_view f, const A&... args) noexcept {
  producer* p = tl_producer;
  if (p != nullptr) [[likely]] {
    // Only a signal handler interrupting this thread's own LOG_* call finds it in flight; the
    // producer token is not re-entrant, so that record is dropped (and counted) below.
    if (p->in_flight.load(std::memory_order_relaxed) != not_in_flight) [[unlikely]] {
      reentrant_drop();
      return;
    }
    p->in_flight.store(p->last_ts, std::memory_order_relaxed);
    // Orders the store above before the generation load for the compiler; the CPU-level order
    // is forced from the stopping side with membarrier(2) (see logger.cpp).
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (p->gen != g_gen.load(std::memory_order_relaxed)) [[unlikely]] p = attach_producer();
  } else {
    p = attach_producer();
  }
  record r;
  r.ts = arch::cycles();
  r.gid = gidlog::gid();
  r.context = tl_context;
  encode_call<Site, Flags>(r, action, x, f, args...);
  if (p != nullptr) [[likely]] {
    submit(*p, r);
  } else {
    write_sync(r);
  }
}

// A format string checked at compile time (the usual case) ...
template <const site_info* Site, std::uint8_t Flags, class... A>
void log_site(std::uint8_t action, const call_extras& x, checked_format<std::type_identity_t<A>...> f,
              const A&... args) noexcept {
  log_call<Site, Flags>(action, x, f.text, args...);
}

// ... or one made at run time (runtime_format, fmt::runtime): checked by the backend, which
// writes a line saying what is wrong with it instead of the message.
template <const site_info* Site, std::uint8_t Flags, class... A>
void log_site(std::uint8_t action, call_extras x, runtime_format_string f, const A&... args) noexcept {
  x.runtime_format = f.text;
  log_call<Site, Flags | meta_runtime>(action, x, f.text, args...);
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog

#define GIDLOG_DETAIL_FIRST_(first, ...) first
#define GIDLOG_DETAIL_REST_(first, ...) __VA_OPT__(, ) __VA_ARGS__
// The macro's format argument as a constant: the literal, or "" for a run-time format string.
#define GIDLOG_DETAIL_LITERAL_(...) \
  ::gidlog::detail::literal_or_empty([&]() -> decltype(auto) { return (GIDLOG_DETAIL_FIRST_(__VA_ARGS__, ~)); })

// One call that passed its gate with `action`: the site's statics and the call. `flags` and
// `extras` are the record_meta flags and call_extras; `logger_name` a string literal or nullptr.
#define GIDLOG_DETAIL_CALL_(lvl, action, flags, extras, logger_name, ...)                                  \
  {                                                                                                     \
    static constinit ::gidlog::detail::site_info gidlog_site_{                                          \
        lvl, __LINE__, __FILE__, ::gidlog::detail::base_name(__FILE__), __func__, logger_name,          \
        GIDLOG_DETAIL_LITERAL_(__VA_ARGS__)};                                                           \
    static constexpr auto gidlog_text_ =                                                                \
        ::gidlog::detail::strip_names<GIDLOG_DETAIL_LITERAL_(__VA_ARGS__).size() + 1>(                  \
            GIDLOG_DETAIL_LITERAL_(__VA_ARGS__));                                                       \
    ::gidlog::detail::log_site<&gidlog_site_, (flags)>(                                                 \
        action, extras,                                                                                 \
        ::gidlog::detail::pick_format(gidlog_text_.view(), GIDLOG_DETAIL_FIRST_(__VA_ARGS__, ~))        \
            GIDLOG_DETAIL_REST_(__VA_ARGS__));                                                          \
    if constexpr ((lvl) == ::gidlog::level::fatal) ::gidlog::detail::fatal_abort();                     \
  }

// Logs at `lvl` when `enabled_expr` holds (evaluated only above GIDLOG_ACTIVE_LEVEL), with the
// record's logger name `logger_name` (a string literal, or nullptr for options::name). Never kept
// for a backtrace: gidlog's own records (SIGQUIT, debug_server) use it.
#define GIDLOG_LOG_IF(lvl, enabled_expr, logger_name, ...)                                            \
  do {                                                                                              \
    if constexpr (::gidlog::detail::compiled_in(lvl)) {                                             \
      if (enabled_expr)                                                                             \
        GIDLOG_DETAIL_CALL_(lvl, ::gidlog::detail::write_action, 0, ::gidlog::detail::call_extras{},  \
                            logger_name, __VA_ARGS__)                                               \
    }                                                                                               \
  } while (false)

// The gated forms. `gate` is a level_gate, `flags`/`lg_ptr` say which logger the record is for.
// `state` declares the per-site state of a conditional or rate-limited macro (or nothing) and
// `admit` is its condition, evaluated after the level check and before the arguments; it may set
// the local `gidlog_suppressed_` (sent when `flags` has meta_suppressed).
#define GIDLOG_DETAIL_GATED_(lvl, gate, flags, lg_ptr, state, admit, ...)                                  \
  do {                                                                                                   \
    if constexpr (::gidlog::detail::compiled_in(lvl)) {                                                  \
      if (const std::uint8_t gidlog_action_ = (gate).load(lvl); gidlog_action_ != 0) {                   \
        state;                                                                                           \
        [[maybe_unused]] std::uint64_t gidlog_suppressed_ = 0;                                           \
        if (admit)                                                                                       \
          GIDLOG_DETAIL_CALL_(lvl, gidlog_action_, (flags),                                              \
                              (::gidlog::detail::call_extras{lg_ptr, {}, gidlog_suppressed_}), nullptr,  \
                              __VA_ARGS__)                                                               \
      }                                                                                                  \
    }                                                                                                    \
  } while (false)
#define GIDLOG_DETAIL_GATED_I_(...) GIDLOG_DETAIL_GATED_(__VA_ARGS__)

// Where a record goes: the root logger (LOG_*) or a named one (LOGGER_*; `lg` is evaluated once).
#define GIDLOG_DETAIL_ROOT_(lvl, state, admit, extra_flags, ...)                                            \
  GIDLOG_DETAIL_GATED_(lvl, ::gidlog::detail::g_root_gate, (extra_flags), nullptr, state, admit, __VA_ARGS__)
#define GIDLOG_DETAIL_NAMED_(lvl, lg, state, admit, extra_flags, ...)                                      \
  do {                                                                                                   \
    const ::gidlog::logger& gidlog_logger_ = (lg);                                                       \
    GIDLOG_DETAIL_GATED_(lvl, gidlog_logger_.gate(), ::gidlog::detail::meta_logger | (extra_flags),      \
                         &gidlog_logger_, state, admit, __VA_ARGS__);                                    \
  } while (false)

// The per-site state and condition of each macro family.
#define GIDLOG_DETAIL_PLAIN_ , , true, 0
#define GIDLOG_DETAIL_IF_(cond) , , (cond), 0
#define GIDLOG_DETAIL_EVERY_N_(n)                                                                       \
  , static ::gidlog::detail::every_n_state gidlog_rate_,                                                  \
      gidlog_rate_.admit(static_cast<std::uint64_t>(n), gidlog_suppressed_), ::gidlog::detail::meta_suppressed
#define GIDLOG_DETAIL_FIRST_N_(n) \
  , static ::gidlog::detail::first_n_state gidlog_rate_, gidlog_rate_.admit(static_cast<std::uint64_t>(n)), 0
#define GIDLOG_DETAIL_EVERY_(period) \
  , static ::gidlog::detail::every_state gidlog_rate_, gidlog_rate_.admit((period), gidlog_suppressed_), ::gidlog::detail::meta_suppressed

#define GIDLOG_DETAIL_ROOT_I_(...) GIDLOG_DETAIL_ROOT_(__VA_ARGS__)
#define GIDLOG_DETAIL_NAMED_I_(...) GIDLOG_DETAIL_NAMED_(__VA_ARGS__)

#define GIDLOG_LOG(lvl, ...) GIDLOG_DETAIL_ROOT_I_(lvl GIDLOG_DETAIL_PLAIN_, __VA_ARGS__)
