// Caller side, the stash: a LOG_* call from a signal handler that interrupted this thread's own
// LOG_* call (or its attaching, or its synchronous write) is kept in the thread's producer and
// written by the interrupted call when it ends (write_stashed), never mixed into it. Runs on the
// calling thread, in the handler and in the interrupted call.
#include <atomic>
#include <cstring>

#include <gidlog/level.h>

#include "core/shared.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

bool may_allocate() noexcept { return tl_stashing == 0; }

bool stash_record(const record& r) noexcept {
  producer* p = tl_producer;
  if (p == nullptr || r.meta == &nomem_meta) return false;  // nomem: its spill was refused (may_allocate)
  // Claim an entry, then fill it. A handler that interrupts this one claims the next entry and
  // fills it before this one goes on; the entries are read only by the interrupted call, which
  // runs again after every handler above it has returned.
  std::uint8_t k = p->stash_in.load(std::memory_order_relaxed);
  do {
    if (static_cast<std::uint8_t>(k - p->stash_out) >= producer::stash_records) return false;
  } while (!p->stash_in.compare_exchange_weak(k, static_cast<std::uint8_t>(k + 1), std::memory_order_relaxed,
                                              std::memory_order_relaxed));
  p->stash[k % producer::stash_records] = r;
  return true;
}

bool take_stashed(record& out) noexcept {
  producer* p = tl_producer;
  if (p == nullptr || p->stash_in.load(std::memory_order_relaxed) == p->stash_out) return false;
  out = p->stash[p->stash_out % producer::stash_records];
  std::atomic_signal_fence(std::memory_order_seq_cst);  // copied before the entry is given back
  ++p->stash_out;
  return true;
}

void write_stashed() noexcept {
  producer* p = tl_producer;
  if (p == nullptr) return;
  while (p->stash_in.load(std::memory_order_relaxed) != p->stash_out) {
    // The slot's stamp and time must stay a lower bound of the stashed record's own time: a
    // handler may have run before the interrupted call read its clock.
    const std::uint64_t ceiling = p->stash[p->stash_out % producer::stash_records].ts << 2;
    // must_keep: the interrupted call was not dropped, so neither are these (a call that is
    // dropped drops the stash with it, see claim_slow). Not claim_fast: the ceiling.
    bool sync = false;
    record* slot = claim_slow(true, sync, ceiling);
    if (slot == nullptr) {
      if (sync) {  // the logger is not running: tl_sync_call is set, handlers append
        record r;
        if (take_stashed(r)) write_sync(r);  // which writes the others after it
        else tl_sync_call = false;
      }
      continue;
    }
    // Busy: a handler from here on appends. The oldest record is looked at only now: a handler's
    // own LOG_* that ran before the claim may have written the stash out already (the stamp is
    // then lower than needed, never higher).
    std::atomic_signal_fence(std::memory_order_seq_cst);
    const bool any = p->stash_in.load(std::memory_order_relaxed) != p->stash_out;
    gidlog::level lvl = gidlog::level::off;
    if (any) {
      const record& e = p->stash[p->stash_out % producer::stash_records];
      slot->meta = e.meta;
      slot->gid = e.gid;
      slot->size = e.size;
      slot->context = e.context;
      std::memcpy(&slot->payload, &e.payload, sizeof e.payload);
      const std::uint64_t ts = e.ts;
      if (e.meta->site != nullptr) lvl = e.meta->site->level;
      std::atomic_signal_fence(std::memory_order_seq_cst);
      ++p->stash_out;
      const std::uint64_t tag = slot_word(*slot).load(std::memory_order_relaxed) & 1;
      slot_word(*slot).store(ts << 2 | slot_ready | tag, std::memory_order_release);
      p->write.store(p->write.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    } else {
      unstamp_slot(*slot, p->write.load(std::memory_order_relaxed), p->mask);
    }
    std::atomic_signal_fence(std::memory_order_seq_cst);
    set_busy(*p, false);
    // As in publish(): the record is published, then the sleeping backend's flag is read.
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (any) wake_backend_for(static_cast<std::uint32_t>(lvl));
  }
}

void write_stashed_then_wake(std::uint32_t wake_above) noexcept {
  write_stashed();
  std::atomic_signal_fence(std::memory_order_seq_cst);
  wake_backend_above(wake_above);
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
