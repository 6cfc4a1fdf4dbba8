#pragma once
// The task registry and the job allocator are one: memory comes in 256-byte slots. A small job
// node is built in a slot's payload and registered in the same slot, so registering adds no cache
// line the job does not touch anyway; bigger jobs and limiter callers use a slot for its
// registry fields alone. Layout of a slot (64-byte aligned):
//
//   [0, 16)     task_entry: seq, state, executor gid -- the fields a worker writes, in the same
//               cache line as the job's own hot fields (vptr, refs, phase, sync)
//   [16, 208)   payload: the job object
//   [208, 256)  task_cold: id, owner, creation site, creator gid, creation time -- written once
//               by the submitter
//
// Writers never lock: a slot comes from the calling thread's heap (a private free list), header
// fields are relaxed atomics published by a sequence counter (seqlock), and a freed slot goes
// back to its home heap with one CAS per batch. Readers (count, list, profile) walk every slab
// under the registry mutex, which only they and slab allocation take.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include <gidlog/runtime/source_location.h>
#include <gidlog/runtime/task_registry.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

inline constexpr std::uint8_t entry_free = 0xff;
inline constexpr std::size_t slot_bytes = 256;
inline constexpr std::size_t slot_payload_offset = 16;
inline constexpr std::size_t slot_payload_bytes = 192;

// The hot registry fields at the start of a slot. state is entry_free unless a live task is
// registered in the slot.
struct task_entry {
  std::atomic<std::uint32_t> seq{0};  // odd while the owner rewrites the slot's task_cold
  std::atomic<std::uint8_t> state{entry_free};
  std::atomic<std::uint32_t> executor_gid{0};
};
static_assert(sizeof(task_entry) <= slot_payload_offset);

// The cold registry fields at the end of a slot.
struct task_cold {
  std::atomic<std::uint64_t> id{0};
  std::atomic<const char*> owner{nullptr};  // interned: lives until exit
  std::atomic<const char*> file{nullptr};   // source_location strings: static storage
  std::atomic<const char*> function{nullptr};
  std::atomic<std::uint32_t> line{0};
  std::atomic<std::uint32_t> creator_gid{0};
  std::atomic<std::int64_t> created_ticks{0};  // cycle counter
};
static_assert(slot_payload_offset + slot_payload_bytes + sizeof(task_cold) <= slot_bytes);

// A process-wide increasing job id, starting at 1.
std::uint64_t next_task_id() noexcept;

// Payload memory of a fresh slot (192 bytes, 16-aligned); throws std::bad_alloc.
void* slot_payload_alloc();
// Gives the slot back (from any thread).
void slot_payload_free(void* payload) noexcept;
inline task_entry* entry_of_payload(void* payload) noexcept {
  return reinterpret_cast<task_entry*>(static_cast<unsigned char*>(payload) - slot_payload_offset);
}
// Returns freed slots this thread holds for other threads' heaps (before a worker sleeps).
void flush_freed_slots() noexcept;

// Registers a task in header e (of a slot this thread owns); false when registration is off.
bool register_in(task_entry* e, const char* owner, task_state st, const source_location& loc, std::uint64_t id,
                 std::uint32_t creator_gid, std::int64_t created_ticks) noexcept;
// The task in e finished: readers stop listing it. The slot itself stays allocated.
inline void mark_unregistered(task_entry* e) noexcept {
  if (e != nullptr) e->state.store(entry_free, std::memory_order_release);
}

// A slot used for its header alone, or nullptr when registration is off (or memory ran out).
task_entry* register_task(const char* owner, task_state st, const source_location& loc, std::uint64_t id,
                          std::uint32_t creator_gid, std::int64_t created_ticks) noexcept;
// Unregisters and frees a slot from register_task; any thread. No-op for nullptr.
void unregister_task(task_entry* e) noexcept;

inline void set_task_state(task_entry* e, task_state st) noexcept {
  if (e != nullptr) e->state.store(static_cast<std::uint8_t>(st), std::memory_order_relaxed);
}
inline void set_task_executor(task_entry* e, std::uint32_t gid) noexcept {
  if (e != nullptr) e->executor_gid.store(gid, std::memory_order_relaxed);
}

// A copy of `name` that lives until the process exits (owner names shown in the profile).
const char* intern_name(const std::string& name);

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
