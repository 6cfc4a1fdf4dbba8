#pragma once
// The task registry's slots. Writers (submitters, workers) never lock: a slot comes from the
// calling thread's free list, fields are relaxed atomics published by a sequence counter
// (seqlock), and a finished slot goes back to its home heap with one CAS. Readers (count, list,
// profile) walk every slab under the registry mutex and validate each slot with the counter.
#include <atomic>
#include <cstdint>
#include <gidlog/runtime/source_location.h>
#include <string>

#include <gidlog/runtime/tasks.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

struct entry_heap;

inline constexpr std::uint8_t entry_free = 0xff;

struct alignas(64) task_entry {
  std::atomic<std::uint32_t> seq{0};  // odd while the owner rewrites the fields below
  std::atomic<std::uint8_t> state{entry_free};
  std::atomic<std::uint32_t> line{0};
  std::atomic<std::uint32_t> creator_gid{0};
  std::atomic<std::uint32_t> executor_gid{0};
  std::atomic<std::uint64_t> id{0};
  std::atomic<const char*> owner{nullptr};  // interned: lives until exit
  std::atomic<const char*> file{nullptr};   // source_location strings: static storage
  std::atomic<const char*> function{nullptr};
  std::atomic<std::int64_t> created_ticks{0};  // cycle counter
  task_entry* next_free = nullptr;  // free-list link, published by the heap's CAS/exchange
  entry_heap* home = nullptr;       // set once when the slab is made
};

// A process-wide increasing job id, starting at 1.
std::uint64_t next_task_id() noexcept;

// A slot for a new task, or nullptr when registration is off (or memory ran out).
task_entry* register_task(const char* owner, task_state st, const source_location& loc, std::uint64_t id,
                          std::uint32_t creator_gid, std::int64_t created_ticks) noexcept;

inline void set_task_state(task_entry* e, task_state st) noexcept {
  if (e != nullptr) e->state.store(static_cast<std::uint8_t>(st), std::memory_order_relaxed);
}
inline void set_task_executor(task_entry* e, std::uint32_t gid) noexcept {
  if (e != nullptr) e->executor_gid.store(gid, std::memory_order_relaxed);
}

// Frees the slot; from any thread. No-op for nullptr.
void unregister_task(task_entry* e) noexcept;

// A copy of `name` that lives until the process exits (owner names shown in the profile).
const char* intern_name(const std::string& name);

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
