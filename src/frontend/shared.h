#pragma once
// State shared by the caller side and the backend: the queue and the producer registry.
// Only src/ includes this (moodycamel stays out of the public headers).
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <concurrentqueue/concurrentqueue.h>

#include <gidlog/detail/frontend.h>
#include <gidlog/options.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

struct queue_traits : moodycamel::ConcurrentQueueDefaultTraits {
  // 128 records (8 KiB at 64 B) per block: fewer block switches on the hot path.
  static const size_t BLOCK_SIZE = 128;
  // Block-index entries an explicit producer starts with. try_enqueue cannot grow the index, so
  // this caps one thread's backlog at 1024 blocks (128 Ki records) without allocating.
  static const size_t EXPLICIT_INITIAL_INDEX_SIZE = 1024;
};
using record_queue = moodycamel::ConcurrentQueue<record, queue_traits>;

struct shared_state {
  std::atomic<record_queue*> queue{nullptr};  // this generation's queue; old ones are leaked
  std::size_t capacity = 0;                   // records preallocated in `queue`
  gidlog::queue_policy policy = gidlog::queue_policy::block;
  std::size_t grow_max_records = 0;

  std::atomic<producer*> producers{nullptr};  // push-only list; entries live forever

  // counters (gidlog::get_counters)
  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> sink_errors{0};
  std::atomic<std::uint64_t> format_errors{0};
  std::atomic<std::uint64_t> nomem{0};
};

// The one instance: constant-initialised and trivially destructible, so threads may log during
// static initialisation and destruction.
extern constinit shared_state g_shared;
inline shared_state& shared() noexcept { return g_shared; }

// Sum of every producer's drop counter.
std::uint64_t total_dropped() noexcept;

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
