#pragma once
// The caller side of a LOG_* call: the hot path. Internal.
//
// Per call: one relaxed level load (in the macro), a check of this thread's ring, a store of the
// record's time lower bound into its slot, one relaxed load of the logger generation, the cycle
// counter (stored into the slot's word too), gid(), the arguments copied into the 64-byte slot and
// one release store of its word.
// The slot is the only cache line the backend shares with the call. No lock, no allocation
// (except a spill for arguments larger than the record), no formatting for built-in types.
#include <atomic>
#include <cstdint>
#include <cstddef>
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

// A thread's records on their way to the backend: a single-producer, single-consumer ring of
// fixed-size records. A slot's `ts` is its state word: (timestamp << 2) | ready << 1 | lap tag,
// the tag being 1 on even laps of the ring and 0 on odd ones (so the zeroed ring reads as empty).
// The owning thread writes the record's fields straight into the slot and publishes it with one
// release store of the word; the backend takes it (acquire) and publishes how far it has read,
// once per batch. The backend never writes a slot, so the line the producer writes next is at most
// shared, never owned, by the backend's core. While the producer fills a slot, the word holds a
// lower bound of the record's timestamp with ready = 0 (see claim_fast), then the timestamp itself:
// that is how the backend keeps the file in time order across threads without a second shared
// line written per call.
// Timestamps must stay below 2^62 (the cycle counter since boot: decades).
struct record_ring {
  std::uint64_t capacity = 0;                   // records, a power of two
  std::atomic<record_ring*> next{nullptr};      // the ring that follows (grown, or after a retirement)
  record* slots = nullptr;                      // `capacity` records, mmap'ed
  std::size_t map_bytes = 0;                    // what was mmap'ed at `slots`
  std::uint64_t written = 0;                    // records the producer put here before moving on (producer)
  // Set by the backend when it gives an idle ring's memory back: the producer moves to a new ring
  // at its next call and never touches these slots again (see backend.cpp, retire_idle_ring).
  std::atomic<bool> retired{false};
  bool released = false;                        // its pages were given back (backend; see give_back)
  alignas(64) std::atomic<std::uint64_t> read{0};  // records the backend has taken (backend writes)
};

// Records in a thread's first ring: one page. A ring grows under a burst (doubling, up to
// options::queue_capacity) and goes back to this size once it has been idle for a while.
inline constexpr std::uint64_t initial_ring_records = 64;

// One per thread that logs, kept for the life of the process and reused after the thread exits.
struct alignas(64) producer {
  // The owning thread's line: the hot path reads and writes it; the backend only reads `write` and
  // `busy`, and lowers `limit` when it retires an idle ring (rare), so it stays in this core's cache.
  record* slots = nullptr;             // ring->slots
  std::uint64_t mask = 0;              // ring->capacity - 1
  std::atomic<std::uint64_t> write{0};  // records this thread has put in `ring` (owner writes)
  std::atomic<std::uint64_t> limit{0};  // write may go below this without reading ring->read (owner;
                                        // the backend lowers it to `write` when it retires the ring)
  record_ring* ring = nullptr;         // the ring this thread writes
  std::uint64_t last_stamp = 4;        // previous timestamp << 2: a valid lower bound, never 0
  std::uint32_t gen = 0;               // logger generation the ring is attached for
  std::uint32_t ring_epoch = 0;        // shared().ring_epoch when `ring` was made
  bool busy = false;                   // inside a LOG_* call (a signal handler's call is stashed);
                                       // stored through set_busy (the backend reads it)
  // The stash below, a ring of stash_records: signal handlers append (stash_in, claimed with a CAS:
  // a handler may interrupt another), the owning thread takes them in order (stash_out) when the
  // interrupted call ends. Equal: empty, the only state the hot path looks at.
  std::atomic<std::uint8_t> stash_in{0};
  std::uint8_t stash_out = 0;

  // Read by the backend, written rarely.
  alignas(64) std::atomic<std::uint32_t> published_gen{0};  // `gen`, published after `drain`
  std::atomic<record_ring*> drain{nullptr};  // the ring the backend reads (it follows `next` itself)
  record_ring* oldest = nullptr;             // the first ring not yet freed (owner frees the ones `drain` left)
  std::atomic<std::uint64_t> dropped{0};     // records discarded by queue_policy::drop
  std::atomic<bool> in_use{false};
  producer* next = nullptr;                  // registry list, push-only
  void* alt_stack = nullptr;                 // the owning thread's alternate signal stack (mmap'ed)
  std::int64_t idle_since_ns = 0;            // backend only: when `drain` was last seen non-empty
  std::atomic<record_ring*> spare{nullptr};  // a larger ring the backend made for this thread (offer_ring)
  std::int64_t rate_since_ns = 0;            // backend only: records taken since then (a rate window)
  std::uint64_t rate_taken = 0;

  // Records logged by signal handlers that interrupted this thread's LOG_* call (the slot, the
  // allocator or the writer lock are the interrupted call's): written by that call when it ends,
  // right after its own record. Owner and its handlers only; never read by the backend.
  static constexpr std::uint8_t stash_records = 8;
  alignas(64) record stash[stash_records];
};
static_assert(offsetof(producer, stash_out) < 64, "the stash indices share the hot line");

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
// Non-zero while the backend sleeps (see backend.cpp, "Sleeping"): a record at level L wakes it
// when the flag is above 6 - L. 0: polling, nobody wakes it; wake_any (7): asleep until a record
// comes, every level wakes it; 7 - flush_on: in a longer poll while records come slowly, records
// at flush_on and above wake it. The hot path reads it once per call, after publishing its record;
// the backend writes it when it changes, and a caller only when it takes it to wake the backend,
// so the line stays shared in every core's cache. wake_crash (8): a crash drain has begun
// (src/lifecycle/crash.cpp, close_rings): every level enters wake_backend(), which parks every thread but
// the crash's and the backend's, so no LOG_* call returns after the drain may have passed its
// record. Nobody takes or overwrites wake_crash.
alignas(64) GIDLOG_DETAIL_SHARED_STATE inline std::atomic<std::uint32_t> g_backend_sleeping{0};
constexpr std::uint32_t wake_any = 7;
constexpr std::uint32_t wake_crash = 8;

// Levels below GIDLOG_ACTIVE_LEVEL are compiled out; LOG_FATAL never is.
constexpr bool compiled_in(level l) noexcept {
  return l == level::fatal || static_cast<int>(l) - GIDLOG_ACTIVE_LEVEL >= 0;
}

// LOG_FATAL is written and aborts whatever the run-time level, `off` included.
inline bool enabled(level l) noexcept {
  return static_cast<std::uint8_t>(l) >= g_level.load(std::memory_order_relaxed) || l == level::fatal;
}

// Out of line (src/frontend): the slow half of claiming a slot, for a thread that has no ring
// for the running logger, whose ring looks full, or that is inside a LOG_* call already (a signal
// handler). Returns this thread's next slot with its stamp stored and `busy` set, or nullptr: then
// `sync` says whether the record goes to write_sync (the logger is not running, or a signal
// handler's call inside this thread's LOG_* call: write_sync stashes it) or nowhere (dropped by
// queue_policy::drop, or a handler's call while the thread has no producer yet, and counted).
// `must_keep`: never dropped (a flush request). `ceiling`: see stamp_for_generation.
record* claim_slow(bool must_keep, bool& sync, std::uint64_t ceiling = ~std::uint64_t{0}) noexcept;
// Out of line (src/frontend): wakes the sleeping backend (a futex wake, async-signal-safe). During
// a crash drain (wake_crash) it never returns, but on the crashing thread and the backend.
void wake_backend() noexcept;
// Wakes the backend when it sleeps so that a record at `level` must wake it (g_backend_sleeping
// above 6 - level); 6 (off): whenever it sleeps. One load and a compare with a constant.
[[gnu::always_inline]] inline void wake_backend_above(std::uint32_t threshold) noexcept {
  if (g_backend_sleeping.load(std::memory_order_relaxed) > threshold) [[unlikely]] wake_backend();
}
[[gnu::always_inline]] inline void wake_backend_for(std::uint32_t level) noexcept { wake_backend_above(6 - level); }
// Out of line (src/frontend): writes the records signal handlers stashed during this thread's
// LOG_* call that just ended (its producer's stash), in order, each as if logged now but with its
// own timestamp.
void write_stashed() noexcept;
// Out of line (src/frontend): write_stashed(), then the wake check of the record just published.
void write_stashed_then_wake(std::uint32_t wake_above) noexcept;
// Out of line (src/backend): format r now and write it to the current sinks, or stderr before
// the first start(); takes the backend's writer lock. A signal handler's record inside this
// thread's LOG_* call goes to the stash instead (that call writes it).
void write_sync(record& r) noexcept;
// LOG_FATAL: write everything queued (bounded by options::crash_drain_timeout), then abort.
[[noreturn]] void fatal_abort() noexcept;

// A slot's state word, the one field the backend reads while the owning thread writes the slot.
inline std::atomic_ref<std::uint64_t> slot_word(record& slot) noexcept { return std::atomic_ref<std::uint64_t>(slot.ts); }
inline constexpr std::uint64_t slot_ready = 2;
inline std::uint64_t lap_tag(std::uint64_t index, std::uint64_t mask) noexcept { return (index & (mask + 1)) == 0; }

// Marks slot `w` as being written, `stamp` being a lower bound of its timestamp.
inline void stamp_slot(record& slot, std::uint64_t w, std::uint64_t mask, std::uint64_t stamp) noexcept {
  slot_word(slot).store(stamp << 2 | lap_tag(w, mask), std::memory_order_relaxed);
}
// Takes the mark back: the slot reads as empty (the other lap's tag) again.
inline void unstamp_slot(record& slot, std::uint64_t w, std::uint64_t mask) noexcept {
  slot_word(slot).store(lap_tag(w, mask) ^ 1, std::memory_order_relaxed);
}

// Only the owning thread writes `busy`, and reads it plainly; the backend reads it atomically.
inline void set_busy(producer& p, bool b) noexcept { std::atomic_ref<bool>(p.busy).store(b, std::memory_order_relaxed); }

// Stamps `slot` (slot w of a busy producer with room), then checks the logger generation after
// the stamp: true, or false (stamp taken back) when stop() or a restart began. On true the slot's
// word holds the call's time, read after the stamp (and `last_stamp` too): the record's timestamp
// is in the slot from the claim on, so the rest of the call never carries it. `ceiling` (<< 2):
// neither the stamp nor the time goes above it (write_stashed: a stashed record's own time).
inline bool stamp_for_generation(producer* p, std::uint64_t w, record* slot,
                                 std::uint64_t ceiling = ~std::uint64_t{0}) noexcept {
  const std::uint64_t tag = lap_tag(w, p->mask);
  slot_word(*slot).store((p->last_stamp < ceiling ? p->last_stamp : ceiling) | tag, std::memory_order_relaxed);
  // The stamp before the generation load, for the compiler; the CPU-level order is forced from
  // the stopping side with membarrier(2) (see lifecycle.cpp).
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (p->gen == g_gen.load(std::memory_order_relaxed)) [[likely]] {
    // Read after the stamp was stored: a call preempted, interrupted or faulting anywhere from
    // here on is covered by the stamp (the backend holds later records back), so the time read
    // here never arrives late. Before the arguments: a signal handler's records logged while
    // they are encoded are stashed with a later time, and come after this one.
    std::uint64_t t = arch::cycles() << 2;
    if (t > ceiling) t = ceiling;
    slot_word(*slot).store(t | tag, std::memory_order_relaxed);
    p->last_stamp = t;
    return true;
  }
  unstamp_slot(*slot, w, p->mask);
  return false;
}

// Claims this thread's next slot: marks the thread busy, stores the slot's stamp (the previous
// timestamp, a lower bound of the one about to be read), checks the logger generation after it
// and stores the call's time in the slot's word. nullptr when any of that fails: claim_slow()
// then decides.
inline record* claim_fast(producer* p) noexcept {
  if (p == nullptr || p->busy) [[unlikely]] return nullptr;
  set_busy(*p, true);
  // A signal handler that logs from here on sees busy; one that ran before has finished, and
  // the index below is read after it.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  const std::uint64_t w = p->write.load(std::memory_order_relaxed);
  if (w < p->limit.load(std::memory_order_relaxed)) [[likely]] {
    record* slot = &p->slots[w & p->mask];
    if (stamp_for_generation(p, w, slot)) [[likely]] {
      if (slot == nullptr) __builtin_unreachable();  // for the caller's null test
      return slot;
    }
  }
  std::atomic_signal_fence(std::memory_order_seq_cst);
  set_busy(*p, false);
  return nullptr;
}

inline record* claim_slot(bool must_keep, bool& sync) noexcept {
  if (record* slot = claim_fast(tl_producer)) [[likely]] return slot;
  return claim_slow(must_keep, sync);
}

// Publishes `slot` (claimed by this thread, its fields written) whose state word, `word`, holds the
// record's time and lap tag since the claim: one release store of the word with its ready bit;
// the backend reads nothing else of a slot before it. It wakes a sleeping backend whose flag is
// above `wake_above` (6 - the record's level; 0: whenever it sleeps).
inline void publish(record& slot, std::uint64_t word, std::uint32_t wake_above) noexcept {
  producer* p = tl_producer;
  slot_word(slot).store(word | slot_ready, std::memory_order_release);
  p->write.store(p->write.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  set_busy(*p, false);
  // A signal handler's LOG_* that came while busy is in the stash; one that comes from here on
  // logs as any call. Clearing busy first and looking after it leaves no instant where a handler
  // could stash a record nobody looks at (a handler between a look and the clear would).
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (p->stash_in.load(std::memory_order_relaxed) != p->stash_out) [[unlikely]] {
    write_stashed_then_wake(wake_above);  // a tail call: the usual path saves no register
    return;
  }
  // A sleeping backend is woken by the first record after it went to sleep. No fence is needed
  // between the publishing store above and this load: the backend runs membarrier(2) between
  // announcing its sleep and its last look at the rings, so either that look sees this record or
  // this load sees the flag (backend.cpp, "Sleeping").
  std::atomic_signal_fence(std::memory_order_seq_cst);
  wake_backend_above(wake_above);
}

// The same with the record's time `ts` (read after the claim: the claim's time is a lower bound of it).
inline void commit(record& slot, std::uint64_t ts, std::uint32_t wake_above = 0) noexcept {
  // The lap tag is in the word this thread stored at the claim (the backend never writes a slot).
  publish(slot, ts << 2 | (slot_word(slot).load(std::memory_order_relaxed) & 1), wake_above);
}

// Out of line (src/frontend): the end of every LOG_* call's record, shared by every call site.
// Stamps r (claimed by claim_fast or claim_call, meta and payload filled) with this thread's gid
// and context, then publishes it: commits the slot, or writes it synchronously when r is the
// caller's own record (its word has the ready bit, which a slot being written never has).
void end_record(record& r) noexcept;

// Out of line (src/frontend): claim_slow for a LOG_* call, which claim_fast could not serve: this
// thread's next slot, or `local` (its word holding the time and the ready bit) for the synchronous
// path, or nullptr when the call makes no record (dropped, and counted).
record* claim_call(record& local) noexcept;

// The meta a call's gate action selects from its site's metas (see site_metas).
inline const record_meta* meta_for(const site_metas* metas, std::uint8_t action) noexcept {
  return reinterpret_cast<const record_meta*>(reinterpret_cast<const unsigned char*>(metas) + (action - write_action));
}
static_assert(keep_action - write_action == kept_meta_offset);

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

// The message of a call with an argument that is not copied as a value, formatted here into r
// under `meta` (a preformatted meta).
template <std::uint8_t Flags, class... A>
void preformat(record& r, const record_meta* meta, const call_extras& x, std::string_view f, const A&... args) noexcept {
  const std::string_view shown = (Flags & meta_runtime) ? f : meta->site->format;  // for a failure note
  try {
    char stack[256];
    auto res = fmt::vformat_to_n(stack, sizeof stack, fmt::string_view(f), fmt::make_format_args(caller_arg(args)...));
    if (res.size <= sizeof stack) {
      encode_text(r, meta, {stack, res.size}, x);
    } else if (!may_allocate()) {
      make_nomem(r, res.size, meta->site);  // a signal handler's record for the stash: no malloc
    } else {
      encode_text(r, meta, fmt::vformat(fmt::string_view(f), fmt::make_format_args(caller_arg(args)...)), x);
    }
  } catch (const std::exception& e) {
    encode_format_failure(r, meta, x, shown, (Flags & meta_runtime) != 0, &e);
  } catch (...) {
    encode_format_failure(r, meta, x, shown, false, nullptr);
  }
}

// Where a LOG_* call writes its record, its time already in the word: this thread's next slot, or
// `local` for the synchronous path, or nullptr when it makes none (dropped, and counted).
[[gnu::always_inline]] inline record* claim_target(record& local) noexcept {
  if (record* slot = claim_fast(tl_producer)) [[likely]] return slot;
  return claim_call(local);
}

// One LOG_* call's record from arguments that travel as values (pass_t forms), under the meta
// its gate's action selects (meta_for). Shared by every call site with the
// same argument types: the site's own code is its level check and this call, the arguments in
// registers.
template <std::uint8_t Flags, class... W>
[[gnu::always_inline]] inline void emit_body(const site_metas* metas, std::uint8_t action, const call_extras& x,
                                             W... w) noexcept {
  record local;
  record* r = claim_target(local);  // the call's time: before the arguments (see stamp_for_generation)
  if (r == nullptr) [[unlikely]] return;
  encode_wire<Flags>(*r, meta_for(metas, action), x, wire_arg(w)...);
  end_record(*r);
}

template <class... W>
[[gnu::noinline]] void emit_values(const site_metas* metas, std::uint8_t action, W... w) noexcept {
  emit_body<0>(metas, action, call_extras{}, w...);
}

// The same with what the flags add before the arguments (a logger, a run-time format string,
// a count of suppressed calls).
template <std::uint8_t Flags, class... W>
[[gnu::noinline]] void emit_values_with(const site_metas* metas, std::uint8_t action, const call_extras& x,
                                        W... w) noexcept {
  emit_body<Flags>(metas, action, x, w...);
}

// One call whose message is formatted here (an argument of a type that does not travel as a
// value), shared by the sites with the same argument types.
template <std::uint8_t Flags, class... A>
[[gnu::noinline]] void emit_formatted(const site_metas* metas, std::uint8_t action, const call_extras& x,
                                      std::string_view f, const A&... args) noexcept {
  record local;
  record* r = claim_target(local);
  if (r == nullptr) [[unlikely]] return;
  preformat<Flags>(*r, meta_for(metas, action), x, f, args...);
  end_record(*r);
}

// One LOG_* call at level Lvl that passed its level gate with `action` (write_action or
// keep_action): the site's metas and the call of the shared encoder.
template <const site_info* Site, std::uint8_t Flags, level Lvl, class... A>
[[gnu::always_inline]] inline void log_call(std::uint8_t action, const call_extras& x, std::string_view f,
                                            const A&... args) noexcept {
  if constexpr (all_deferred_v<A...>) {
    if constexpr (Flags == 0) {
      emit_values<pass_t<A>...>(&site_metas_v<Site, Flags, Lvl, A...>, action, pass_arg(args)...);
    } else {
      emit_values_with<Flags, pass_t<A>...>(&site_metas_v<Site, Flags, Lvl, A...>, action, x, pass_arg(args)...);
    }
  } else {
    emit_formatted<Flags, A...>(&preformatted_metas_v<Site, Flags, Lvl>, action, x, f, args...);
  }
}

// A format string checked at compile time (the usual case) ...
template <const site_info* Site, std::uint8_t Flags, level Lvl, class... A>
[[gnu::always_inline]] inline void log_site(std::uint8_t action, const call_extras& x,
                                            checked_format<std::type_identity_t<A>...> f, const A&... args) noexcept {
  log_call<Site, Flags, Lvl>(action, x, f.text, args...);
}

// ... or one made at run time (runtime_format, fmt::runtime): checked by the backend, which
// writes a line saying what is wrong with it instead of the message.
template <const site_info* Site, std::uint8_t Flags, level Lvl, class... A>
[[gnu::always_inline]] inline void log_site(std::uint8_t action, call_extras x, runtime_format_string f,
                                            const A&... args) noexcept {
  x.runtime_format = f.text;
  log_call<Site, Flags | meta_runtime, Lvl>(action, x, f.text, args...);
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
    ::gidlog::detail::log_site<&gidlog_site_, (flags), (lvl)>(                                         \
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
