// The backend thread: bulk dequeue, merge producers by timestamp, format, write, flush. This file
// holds its loop (run) and its start and stop; the loop's parts are beside it (see
// backend_state.h).
#include "backend/backend.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <gidlog/gid.h>
#include <gidlog/arch/cpu.h>

#include "backend/backend_state.h"
#include "backend/clock.h"
#include "backend/writer.h"
#include "core/thread_origin.h"
#include "sinks/sigpipe.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

const record_meta flush_meta{nullptr, nullptr, 0, false, nullptr};
const record_meta nomem_meta{nullptr, nullptr, 0, false, nullptr};

backend_state* g_backend = nullptr;
bool g_forked_child = false;

writer& stderr_writer() {
  static writer* w = [] {
    options o;
    o.sinks = {console_sink(console_stream::err)};
    return new writer(o);  // leaked: used before start() and at exit
  }();
  return *w;
}

void free_payload(record& r) noexcept {
  if (r.size > record::inline_capacity && r.meta != &nomem_meta) std::free(r.payload.spill);
}

// Merges the sorted runs of pending[from, end) (each producer's records arrive in order) into
// one run, stably, so records with equal timestamps keep their per-thread order.
void merge_runs(pending_records& v, std::size_t from) {
  auto by_ts = [](const record& a, const record& b) { return a.ts < b.ts; };
  std::vector<std::size_t> bounds{from};
  for (std::size_t i = from + 1; i < v.size(); ++i)
    if (v[i].ts < v[i - 1].ts) bounds.push_back(i);
  bounds.push_back(v.size());
  while (bounds.size() > 2) {
    std::vector<std::size_t> next{bounds[0]};
    std::size_t k = 0;
    for (; k + 2 < bounds.size(); k += 2) {
      std::inplace_merge(v.begin() + static_cast<std::ptrdiff_t>(bounds[k]),
                         v.begin() + static_cast<std::ptrdiff_t>(bounds[k + 1]),
                         v.begin() + static_cast<std::ptrdiff_t>(bounds[k + 2]), by_ts);
      next.push_back(bounds[k + 2]);
    }
    if (k + 1 < bounds.size() && next.back() != bounds.back()) next.push_back(bounds.back());
    bounds.swap(next);
  }
}

namespace {

constinit site_info drop_site{gidlog::level::warn, 0, "gidlog", "gidlog", "backend", nullptr,
                              "gidlog: {} records dropped"};

void report_drops(backend_state& b, std::uint64_t ticks) {
  std::uint64_t total = total_dropped();
  if (total <= b.reported_drops) return;
  record r{};
  r.meta = &meta_v<&drop_site, std::uint64_t>;
  r.ts = ticks;
  r.gid = gidlog::gid();
  std::uint64_t n = total - b.reported_drops;
  r.size = sizeof n;
  std::memcpy(r.payload.bytes, &n, sizeof n);
  b.reported_drops = total;
  b.wr->write(r, std::max(b.last_wall, b.clock.to_ns(ticks)));
}

void write_record(backend_state& b, const record& r) {
  std::int64_t wall = b.clock.to_ns(r.ts);
  // A recalibration may move the mapping back by a little: never print a record before the one
  // above it. A clock step (NTP, settimeofday) is a jump of more than a second: printed as is.
  if (wall < b.last_wall && b.last_wall - wall < 1'000'000'000) wall = b.last_wall;
  b.last_wall = wall;
  b.wr->write_prepared(r, wall);
}

// Writes one record, or serves a flush request; an exception (bad_alloc, say) is reported and
// the loop goes on, and a flush request is always answered.
void write_one(backend_state& b, record& r) noexcept {
  const bool is_flush = r.meta == &flush_meta;
  try {
    if (is_flush) b.wr->flush_all();
    else write_record(b, r);
  } catch (const std::exception& e) {
    char msg[256];
    std::snprintf(msg, sizeof msg, "could not write a record: %s", e.what());
    b.wr->report(msg);
  } catch (...) {
    b.wr->report("could not write a record: unknown exception");
  }
  if (is_flush) {
    flush_request* req;
    std::memcpy(&req, r.payload.bytes, sizeof req);
    req->done.store(1, std::memory_order_release);
    req->done.notify_all();
  } else {
    free_payload(r);
  }
}

}  // namespace

void write_range(backend_state& b, std::size_t end) {
  if (end == b.head) return;
  try {
    b.wr->prepare(b.clock.to_ns(b.pending[end - 1].ts));  // a failing reopen is reported by the writer
  } catch (...) {
  }
  const std::size_t taken = b.pending.size();
  for (std::size_t i = b.head; i < end; ++i) {
    b.writing.store(i, std::memory_order_relaxed);
    b.backlog.store(taken - i, std::memory_order_relaxed);  // taken from the rings, not yet written
    write_one(b, b.pending[i]);
  }
  b.writing.store(SIZE_MAX, std::memory_order_relaxed);
  b.head = end;
}

namespace {

void compact(backend_state& b) {
  if (b.head == b.pending.size()) {
    b.pending.clear();
    b.head = 0;
  } else if (b.head > 8192 && b.head > b.pending.size() / 2) {
    b.pending.erase(b.pending.begin(), b.pending.begin() + static_cast<std::ptrdiff_t>(b.head));
    b.head = 0;
  }
}

void run(backend_state& b) {
  pthread_setname_np(pthread_self(), "gidlog-backend");
  tl_is_backend = true;
  b.tid.store(static_cast<pid_t>(gidlog::gid()), std::memory_order_release);  // any first-use check happens before we hold locks
  use_alt_stack(b.alt_stack);
  block_sigpipe_on_this_thread();  // a reader gone from a pipe sink is an EPIPE error, not death
  b.pending.reserve(1024);
  crash_drain& crash = shared().crash;
  b.last_record_ns = monotonic_ns();

  for (;;) {
    const bool stopping = b.stop.load(std::memory_order_acquire);
    const bool crashing = crash.requested.load(std::memory_order_acquire) != 0 &&
                          crash.done.load(std::memory_order_relaxed) == 0;
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::uint64_t now = arch::cycles();
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // The cycle counter's rate is measured over the backend's life so far: until the window
    // reaches 2 ms it is measured again at every pass (no wait at start: a short-lived process
    // writes its few records at once).
    b.clock.warm_up(2'000'000);
    // Records stay in `pending` until no producer can still enqueue an older one: 20 us covers a
    // store buffer draining; preemption is covered by the producers' in_flight stamps.
    const auto margin = static_cast<std::uint64_t>(20'000.0 / b.clock.ns_per_tick());
    // A crash writes everything there is: no margin, and in-flight stamps only until the deadline.
    std::uint64_t watermark = crashing ? UINT64_MAX : now - margin;
    bool in_flight = false;

    const std::size_t before = b.pending.size();
    std::size_t got = 0;
    const bool took = before - b.head < b.max_pending;
    if (took) got = take_pass(b, 2048, watermark, in_flight);
    b.backlog.store(b.pending.size() - b.head, std::memory_order_relaxed);  // out of the rings now
    if (crashing && !b.crash_taken) {
      b.crash_taken = true;
      if (crash.rec.meta != nullptr) b.pending.push_back(crash.rec);
      ++got;
    }
    if (got != 0) merge_runs(b.pending, b.head < before ? b.head : before);
    if (crashing && in_flight && monotonic_ns() > crash.deadline_ns) {
      watermark = UINT64_MAX;  // a thread stopped mid-LOG_* (the crashing one, say) is not waited for
      in_flight = false;
    }

    const bool final_drain = stopping && took && !in_flight && got == 0;  // every ring empty
    std::size_t end = b.head;
    if (final_drain) {
      end = b.pending.size();
    } else {
      while (end < b.pending.size() && b.pending[end].ts < watermark) ++end;
      // pending is full and nothing may be written: a producer has been stalled mid-LOG_* (or its
      // thread stopped) for longer than it took the others to log max_pending records. Writing
      // the older half now keeps memory bounded; that stalled record may then land out of order.
      if (end == b.head && b.pending.size() - b.head >= b.max_pending) end = b.head + (b.pending.size() - b.head) / 2;
    }
    // The request was made after the crash's membarrier (crash.cpp, close_rings), so a pass that
    // saw it and found every ring empty has taken every record whose LOG_* call may return.
    const bool crash_complete = crashing && took && !in_flight && end == b.pending.size() && got == 0;

    {
      std::lock_guard<std::mutex> lock(writer_mutex());
      try {
        write_range(b, end);
        report_drops(b, now);
        if (got == 0) {
          b.wr->on_idle();
          b.clock.maybe_recalibrate(now);
        }
        if (final_drain || crash_complete) b.wr->flush_all();
      } catch (const std::exception& e) {
        b.wr->report(std::string("backend error: ") + e.what());
      } catch (...) {
        b.wr->report("backend error: unknown exception");
      }
    }
    if (crash_complete) crash.done.store(1, std::memory_order_release);
    // Every record older than the watermark is written now (when this pass took from the queue):
    // context snapshots retired before it can go.
    if (took && !crashing) context_reclaim(watermark);
    compact(b);
    b.backlog.store(b.pending.size() - b.head, std::memory_order_relaxed);
    if (final_drain) break;
    if (got != 0 || crashing) {
      b.last_record_ns = 0;
      continue;  // more may be waiting: look again at once
    }
    const std::int64_t mono = monotonic_ns();
    if (b.last_record_ns == 0) b.last_record_ns = mono;
    const std::int64_t due = retire_idle_rings(b, mono);
    const bool all_written = b.head == b.pending.size() && !in_flight;
    if (all_written && !stopping && mono - b.last_record_ns >= b.idle_after.count() * 1000) {
      // Idle: sleep until woken, or until a ring falls due for retirement or a failing sink for
      // its next retry.
      std::int64_t until = due;
      if (const std::int64_t retry = b.wr->next_retry_ns(); retry != INT64_MAX)
        until = std::min(until, mono + std::max<std::int64_t>(retry - tsc_clock::realtime_ns(), 0));
      sleep_until_woken(b, until == INT64_MAX ? -1 : std::max<std::int64_t>(until - mono, 0));
      b.clock.recalibrate();  // the wall clock may have been stepped or slewed meanwhile
      b.last_record_ns = monotonic_ns();  // poll a while after waking, whatever woke it
      b.poll_ns = b.sleep.count() * 1000;  // at the shortest interval: a burst may follow
    } else if (b.sleep.count() > 0) {
      poll_sleep(b);
    } else {
      std::this_thread::yield();
    }
  }
  b.finished.store(1, std::memory_order_release);
  futex_wake_all(b.finished);
}

}  // namespace

void backend_start(std::unique_ptr<writer> w, const options& opt, std::uint32_t gen) {
  // Drops before this point were reported by the last backend, or happened while stopped (none:
  // stopped, records go to the synchronous path); every later one reaches this backend's report.
  auto* b = new backend_state(std::move(w), opt, gen, total_dropped());
  backend_state* old;
  {
    // Synchronous writers use g_backend's writer under this lock: swapping it here means none is
    // still inside the old one when it is deleted.
    std::lock_guard<std::mutex> lock(writer_mutex());
    old = g_backend;
    g_backend = b;
  }
  // Its thread was joined by stop(); a backend stop() gave up on, or one inherited through
  // fork(), is left alone (its thread may still be inside a sink, or not exist).
  if (old != nullptr && !g_forked_child && old->finished.load(std::memory_order_acquire) != 0) delete old;
  g_forked_child = false;
  b->thread = start_named_thread("gidlog-backend", source_location::current(), "gidlog backend", [b] { run(*b); });
}

bool backend_stop(std::chrono::milliseconds timeout, std::uint64_t& left) noexcept {
  left = 0;
  backend_state* b = g_backend;
  if (b == nullptr || g_forked_child) return true;
  b->stop.store(true, std::memory_order_release);
  wake_backend();
  if (timeout.count() > 0) {
    const std::int64_t deadline = monotonic_ns() + static_cast<std::int64_t>(timeout.count()) * 1'000'000;
    while (b->finished.load(std::memory_order_acquire) == 0) {
      const std::int64_t now = monotonic_ns();
      if (now >= deadline) {
        // Queued, dequeued but not written, and handed to a sink that never got them out.
        left = b->backlog.load(std::memory_order_relaxed) + queued_records(b->gen) + b->wr->unflushed();
        b->thread.detach();  // stuck in a sink: it dies with the process
        return false;
      }
      futex_wait(b->finished, 0, deadline - now);  // run() wakes it as it returns
    }
  }
  if (b->thread.joinable()) b->thread.join();
  return true;
}

void backend_forget_writer_after_fork() noexcept {
  g_backend = nullptr;  // leaked: its writer may be mid-write; the child writes to stderr instead
  g_forked_child = true;
}

void backend_forget_after_fork() noexcept {
  g_forked_child = true;  // the thread object is left alone: no thread behind it in the child
  if (g_backend != nullptr) g_backend->wr->after_fork_child();
}

std::int64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
