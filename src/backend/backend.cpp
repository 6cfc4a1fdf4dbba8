// The backend thread: bulk dequeue, merge producers by timestamp, format, write, flush.
#include "backend/backend.h"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <gidlog/gid.h>
#include <gidlog/arch/cpu.h>

#include "backend/clock.h"
#include "backend/writer.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

const record_meta flush_meta{nullptr, nullptr, 0, false, nullptr};
const record_meta nomem_meta{nullptr, nullptr, 0, false, nullptr};

namespace {

constinit site_info drop_site{gidlog::level::warn, 0, "gidlog", "gidlog", "backend", nullptr,
                              "gidlog: {} records dropped"};

struct backend_state {
  backend_state(std::unique_ptr<writer> w, const options& opt, record_queue* queue)
      : wr(std::move(w)), q(queue), sleep(opt.backend_sleep) {}
  std::unique_ptr<writer> wr;
  record_queue* q;
  std::chrono::microseconds sleep;
  tsc_clock clock;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::uint64_t reported_drops = 0;
  std::int64_t last_wall = INT64_MIN;
};

backend_state* g_backend = nullptr;  // current or last; guarded by the control lock in logger.cpp
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
  if (r.size > record::inline_capacity) std::free(r.payload.spill);
}

// Merges the sorted runs of pending[from, end) (each producer's records arrive in order) into
// one run, stably, so records with equal timestamps keep their per-thread order.
void merge_runs(std::vector<record>& v, std::size_t from) {
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
  if (wall < b.last_wall) wall = b.last_wall;  // recalibration never moves time backwards
  b.last_wall = wall;
  b.wr->write(r, wall);
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

void run(backend_state& b) {
  pthread_setname_np(pthread_self(), "gidlog-backend");
  (void)gidlog::gid();  // any first-use check of this thread happens before we hold locks
  b.clock.settle(2'000'000);
  b.reported_drops = total_dropped();
  // Records stay in `pending` until no producer can still enqueue an older one: 20 us covers a
  // store buffer draining; preemption is covered by the producers' in_flight stamps.
  const auto margin = static_cast<std::uint64_t>(20'000.0 / b.clock.ns_per_tick());
  moodycamel::ConsumerToken ctok(*b.q);
  std::vector<record> pending;
  pending.reserve(16384);
  std::size_t head = 0;
  std::vector<queued_record> batch(4096);

  for (;;) {
    const bool stopping = b.stop.load(std::memory_order_acquire);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::uint64_t now = arch::cycles();
    std::atomic_thread_fence(std::memory_order_seq_cst);
    std::uint64_t watermark = now - margin;
    bool in_flight = false;
    for (producer* p = shared().producers.load(std::memory_order_acquire); p != nullptr; p = p->next) {
      std::uint64_t v = p->in_flight.load(std::memory_order_acquire);
      if (v != not_in_flight) {
        in_flight = true;
        watermark = std::min(watermark, v);
      }
    }

    std::size_t got = 0;
    const std::size_t before = pending.size();
    while (got < 16384) {
      std::size_t n = b.q->try_dequeue_bulk(ctok, batch.data(), batch.size());
      if (n == 0) break;
      pending.insert(pending.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(n));
      got += n;
    }
    if (got != 0) merge_runs(pending, head < before ? head : before);

    const bool final_drain = stopping && !in_flight && got == 0 && b.q->size_approx() == 0;
    std::size_t end = head;
    if (final_drain) {
      end = pending.size();
    } else {
      while (end < pending.size() && pending[end].ts < watermark) ++end;
    }

    {
      std::lock_guard<std::mutex> lock(writer_mutex());
      try {
        for (std::size_t i = head; i < end; ++i) write_one(b, pending[i]);
        report_drops(b, now);
        if (got == 0) {
          b.wr->on_idle();
          b.clock.maybe_recalibrate(now);
        }
        if (final_drain) b.wr->flush_all();
      } catch (const std::exception& e) {
        b.wr->report(std::string("backend error: ") + e.what());
      } catch (...) {
        b.wr->report("backend error: unknown exception");
      }
    }
    head = end;
    if (head == pending.size()) {
      pending.clear();
      head = 0;
    } else if (head > 8192 && head > pending.size() / 2) {
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(head));
      head = 0;
    }
    if (final_drain) break;
    if (got == 0) {
      if (b.sleep.count() > 0) std::this_thread::sleep_for(b.sleep);
      else std::this_thread::yield();
    }
  }
}

}  // namespace

void backend_start(std::unique_ptr<writer> w, const options& opt, record_queue* q) {
  auto* b = new backend_state(std::move(w), opt, q);
  if (g_backend != nullptr && !g_forked_child) delete g_backend;  // its thread was joined by stop()
  g_backend = b;
  g_forked_child = false;
  b->thread = std::thread([b] { run(*b); });
}

void backend_stop() noexcept {
  backend_state* b = g_backend;
  if (b == nullptr || g_forked_child) return;
  b->stop.store(true, std::memory_order_release);
  if (b->thread.joinable()) b->thread.join();
}

void flush_sync() noexcept {
  std::lock_guard<std::mutex> lock(writer_mutex());
  try {
    if (g_backend != nullptr) g_backend->wr->flush_all();
    else stderr_writer().flush_all();
  } catch (...) {
  }
}

void backend_forget_after_fork() noexcept {
  g_forked_child = true;  // the thread object is left alone: no thread behind it in the child
  if (g_backend != nullptr) g_backend->wr->after_fork_child();
}

void write_sync(record& r) noexcept {
  std::lock_guard<std::mutex> lock(writer_mutex());
  try {
    writer& w = g_backend != nullptr ? *g_backend->wr : stderr_writer();
    w.write(r, tsc_clock::realtime_ns());
    w.flush_all();
  } catch (...) {
  }
  free_payload(r);
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
