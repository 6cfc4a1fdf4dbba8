#pragma once
// The backend thread's state and the functions the files of its loop share: the loop itself
// (backend.cpp), taking records from the rings (rings.cpp), sleeping between passes (sleep.cpp),
// synchronous writes (sync_write.cpp), the crash drain (crash_drain.cpp) and the debug view
// (debug_view.cpp). Internal to src/backend/.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <gidlog/options.h>

#include "backend/backend.h"
#include "backend/clock.h"
#include "backend/writer.h"
#include "core/shared.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

// An allocator that leaves elements default-initialised (not zeroed) on resize(): the backend
// grows `pending` by a batch and copies the records from a ring straight into it.
template <class T>
struct uninit_allocator : std::allocator<T> {
  using std::allocator<T>::allocator;
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... A>
  void construct(U* p, A&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(args)...);
  }
};
using pending_records = std::vector<record, uninit_allocator<record>>;

struct backend_state {
  backend_state(std::unique_ptr<writer> w, const options& opt, std::uint32_t generation, std::uint64_t drops_before)
      : wr(std::move(w)), sleep(opt.backend_sleep), idle_after(opt.backend_idle),
        poll_ns(opt.backend_sleep.count() * 1000),
        poll_max_ns(std::max(opt.backend_sleep, opt.backend_sleep_max).count() * 1000),
        poll_wake(opt.flush_on == gidlog::level::off ? 0 : wake_any - static_cast<std::uint32_t>(opt.flush_on)),
        gen(generation),
        max_pending(std::max<std::size_t>(2 * opt.queue_capacity, 1 << 16)), reported_drops(drops_before) {}
  std::unique_ptr<writer> wr;
  std::chrono::microseconds sleep;
  std::chrono::microseconds idle_after;  // without records this long: sleep until woken
  // The poll interval while records come: between sleep and poll_max_ns (see "Sleeping").
  std::int64_t poll_ns;
  std::int64_t poll_max_ns;
  std::uint32_t poll_wake;  // g_backend_sleeping during a longer poll: flush_on levels wake it
  std::uint32_t poll_fill = 0;  // the fullest ring since the last sleep, in 256ths of its capacity
  std::uint32_t gen;                // the backend reads the rings of producers attached to it
  std::size_t max_pending;          // see run(): past it, records are written before the watermark
  tsc_clock clock;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::atomic<std::uint32_t> finished{0};  // run() returned (a futex word: stop() waits on it)
  std::atomic<std::uint64_t> backlog{0};  // records taken but not yet written (for stop's report)
  std::atomic<pid_t> tid{0};
  std::uint64_t reported_drops;  // drops counted before start() were reported by the last backend
  std::int64_t last_wall = INT64_MIN;
  // Records dequeued and not yet written: [head, size) is sorted by timestamp. Kept here, not in
  // run()'s frame, so the crash handler can finish them when the backend itself crashes.
  pending_records pending;
  std::size_t head = 0;
  std::atomic<std::size_t> writing{SIZE_MAX};  // index in pending being written, for the crash drain
  bool crash_taken = false;
  void* alt_stack = nullptr;
  std::int64_t last_record_ns = 0;  // CLOCK_MONOTONIC of the last pass that took a record
};

extern backend_state* g_backend;  // current or last; swapped under the writer lock
extern bool g_forked_child;

// backend.cpp
writer& stderr_writer();
void free_payload(record& r) noexcept;
void merge_runs(pending_records& v, std::size_t from);
void write_range(backend_state& b, std::size_t end);

// rings.cpp
std::size_t take_pass(backend_state& b, std::size_t per_producer, std::uint64_t& watermark, bool& any_in_flight);
bool rings_hold_records(const backend_state& b) noexcept;
std::int64_t retire_idle_rings(backend_state& b, std::int64_t now) noexcept;

// sleep.cpp
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, std::int64_t timeout_ns) noexcept;
void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept;
void sleep_until_woken(backend_state& b, std::int64_t timeout_ns) noexcept;
void poll_sleep(backend_state& b) noexcept;

// sync_write.cpp
void write_now(record& r) noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
