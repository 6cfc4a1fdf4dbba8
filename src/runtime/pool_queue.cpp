// worker_pool's queue and its accounting (pool_core.h): push on a submitter's thread, pop on a
// worker's, the reservations that bound it, and the counts close() and stats() read. Any thread.
#include <algorithm>

#include "runtime/pool_core.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

void pool_core::push(job* j) noexcept {
  job* head = inbox_.load(std::memory_order_relaxed);
  do {
    j->next_ = head;
  } while (!inbox_.compare_exchange_weak(head, j, std::memory_order_release, std::memory_order_relaxed));
  items_.signal(1);
}

job* pool_core::pop() noexcept {
  std::lock_guard g(ready_lock_);
  if (ready_head_ == nullptr) {
    job* s = inbox_.exchange(nullptr, std::memory_order_acquire);
    if (s == nullptr) return nullptr;
    job* prev = nullptr;
    ready_tail_ = s;
    while (s != nullptr) {
      job* next = s->next_;
      s->next_ = prev;
      prev = s;
      s = next;
    }
    ready_head_ = prev;
  }
  job* j = ready_head_;
  ready_head_ = j->next_;
  if (ready_head_ == nullptr) ready_tail_ = nullptr;
  j->next_ = nullptr;
  return j;
}

bool pool_core::try_reserve() noexcept {
  const auto max = static_cast<std::int64_t>(opt_.max_queue);
  std::int64_t p = pending_.load(std::memory_order_seq_cst);
  while (p < max) {
    if (pending_.compare_exchange_weak(p, p + 1, std::memory_order_seq_cst)) return true;
  }
  return false;
}

void pool_core::wake_all_workers() noexcept {
  items_.signal(static_cast<moodycamel::LightweightSemaphore::ssize_t>(alive_.load(std::memory_order_acquire) + 1));
}

void pool_core::wake_blocked_submitters() noexcept {
  // Dekker with the submitter: it increments blocked_ then re-checks pending_ (both seq_cst);
  // we changed pending_ (seq_cst RMW) then read blocked_ here.
  if (blocked_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard g(space_mu_);
    space_cv_.notify_all();
  }
}

void pool_core::unreserve() noexcept {
  pending_.fetch_sub(1, std::memory_order_seq_cst);
  wake_blocked_submitters();
  wake_all_workers();
}

void pool_core::on_taken() noexcept {
  if (!bounded_) return;
  const std::int64_t left = pending_.fetch_sub(1, std::memory_order_seq_cst) - 1;
  wake_blocked_submitters();
  if (left == 0 && closed_.load(std::memory_order_seq_cst)) wake_all_workers();
}

void pool_core::end_submit() noexcept {
  if (in_flight_.fetch_sub(1, std::memory_order_seq_cst) == 1 && closed_.load(std::memory_order_seq_cst)) {
    wake_all_workers();
  }
}

void pool_core::on_tombstone() noexcept {
  if (!bounded_) cancelled_.fetch_add(1, std::memory_order_relaxed);
}

bool pool_core::drained() noexcept {
  if (!closed_.load(std::memory_order_seq_cst)) return false;
  if (bounded_) return pending_.load(std::memory_order_seq_cst) == 0;
  // Order matters: once in_flight_ reads 0 after closed_, every submit that passed its closed_
  // check has pushed, so an empty queue now stays empty.
  if (in_flight_.load(std::memory_order_seq_cst) != 0) return false;
  std::lock_guard g(ready_lock_);
  return ready_head_ == nullptr && inbox_.load(std::memory_order_seq_cst) == nullptr;
}

pool_core::queue_count pool_core::count_queue() const noexcept {
  queue_count c;
  if (bounded_) {
    c.queued = static_cast<std::size_t>(std::max<std::int64_t>(0, pending_.load(std::memory_order_relaxed)));
    return c;
  }
  // Safe to follow next_ links: under ready_lock_ no worker takes the inbox, submitters only
  // push new heads, and a queued job stays alive through the queue's reference.
  std::lock_guard g(ready_lock_);
  const auto add = [&c](const job* j) {
    if (j->phase_.load(std::memory_order_acquire) == task_state::queued) {
      ++c.queued;
    } else {
      ++c.tombstones;
    }
  };
  for (const job* j = ready_head_; j != nullptr; j = j->next_) add(j);
  for (const job* j = inbox_.load(std::memory_order_acquire); j != nullptr; j = j->next_) add(j);
  return c;
}

void pool_core::on_dropped() noexcept {
  cancelled_.fetch_add(1, std::memory_order_relaxed);
  const std::int64_t left = pending_.fetch_sub(1, std::memory_order_seq_cst) - 1;
  wake_blocked_submitters();
  if (left == 0 && closed_.load(std::memory_order_seq_cst)) wake_all_workers();
}

bool pool_core::try_retire() noexcept {
  std::int64_t r = retire_.load(std::memory_order_relaxed);
  while (r > 0) {
    if (retire_.compare_exchange_weak(r, r - 1, std::memory_order_acq_rel, std::memory_order_relaxed)) return true;
  }
  return false;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
