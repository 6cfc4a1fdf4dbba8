// Caller side, the out-of-line pieces of a LOG_* call that the inline code in
// <gidlog/detail/frontend.h> calls: room for a payload that does not fit in the slot, a string
// argument, the record's end (gid, context, publish) and the claim of a slot for a call. On the
// calling thread.
#include <atomic>
#include <cstring>

#include <gidlog/gid.h>
#include <gidlog/arch/cpu.h>

#include "core/shared.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

unsigned char* reserve_spill(record& r, std::size_t n, const record_meta* meta) noexcept {
  unsigned char* out = reserve_payload(r, n);
  if (out == nullptr) make_nomem(r, n, meta->site);
  return out;
}

unsigned char* put_string(unsigned char* out, const char* data, std::size_t size) noexcept {
  const auto n = static_cast<std::uint32_t>(size);
  std::memcpy(out, &n, 4);
  copy_string(out + 4, {data, size});
  return out + 4 + size;
}

namespace {

// end_record's second half, r.gid written.
[[gnu::always_inline]] inline void end_record_with_gid(record& r) noexcept {
  r.context = tl_context;
  const std::uint64_t word = slot_word(r).load(std::memory_order_relaxed);
  if ((word & slot_ready) == 0) [[likely]] {
    publish(r, word, r.meta->wake_above);
    return;
  }
  r.ts = word >> 2;  // the caller's own record (claim_call)
  write_sync(r);
}

[[gnu::noinline, gnu::cold]] void end_record_gid_slow(record& r) noexcept {
  r.gid = gid_slow();
  end_record_with_gid(r);
}

}  // namespace

void end_record(record& r) noexcept {
  // gid() with its slow path as a tail call (the first call of a thread, or another gid method),
  // so that the usual path saves no register and needs no frame.
  const std::ptrdiff_t off = gid_fast.tp_offset.load(std::memory_order_relaxed);
  if ((off & gid_thread_checked) == 0) [[unlikely]] {
    end_record_gid_slow(r);
    return;
  }
  r.gid = gid_read_at(off);
  end_record_with_gid(r);
}

record* claim_call(record& local) noexcept {
  bool sync = false;
  if (record* slot = claim_slow(false, sync)) return slot;
  if (!sync) return nullptr;
  local.ts = arch::cycles() << 2 | slot_ready;  // marks it as the caller's own (see end_record)
  return &local;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
