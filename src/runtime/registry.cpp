// gidlog::tasks: slots, per-thread heaps, and the readers (count, list, profile).
#include "runtime/registry.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <new>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "runtime/runtime_log.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

// A slot (layout in registry.h). The free-list link lives in the payload while the slot is free.
struct alignas(64) slot {
  task_entry header;
  alignas(16) unsigned char payload[slot_payload_bytes];
  task_cold cold;
};
static_assert(sizeof(slot) == slot_bytes);
static_assert(offsetof(slot, payload) == slot_payload_offset);

task_cold& cold_of(task_entry* e) noexcept { return reinterpret_cast<slot*>(e)->cold; }

slot* slot_of(void* payload) noexcept {
  return reinterpret_cast<slot*>(static_cast<unsigned char*>(payload) - offsetof(slot, payload));
}
slot* get_next(const slot* s) noexcept {
  slot* n;
  std::memcpy(&n, s->payload, sizeof n);
  return n;
}
void set_next(slot* s, slot* n) noexcept { std::memcpy(s->payload, &n, sizeof n); }

}  // namespace

// Slots of one heap: the owner thread pops `local` without atomics; other threads push freed
// slots on `remote` (Treiber push of a chain, ABA-free because the owner only ever takes the
// whole list).
struct entry_heap {
  slot* local = nullptr;
  std::atomic<slot*> remote{nullptr};
};

namespace {

// Slabs are aligned to their size, so a slot finds its slab (and the slab its home heap) by
// masking its address. The first slot of a slab holds the slab header.
constexpr std::size_t slab_bytes = 16 * 1024;
constexpr std::size_t slots_per_slab = slab_bytes / slot_bytes;

struct slab_header {
  entry_heap* home;
};

// Slot 0 of a slab is never handed out: its header stays entry_free, its payload holds this.
slab_header* header_of_slab(slot* slab) noexcept { return std::launder(reinterpret_cast<slab_header*>(slab->payload)); }

entry_heap* home_of(slot* s) noexcept {
  const auto base = reinterpret_cast<std::uintptr_t>(s) & ~(std::uintptr_t{slab_bytes} - 1);
  return header_of_slab(reinterpret_cast<slot*>(base))->home;
}

struct registry_state {
  std::mutex mu;  // slabs, heaps, names; readers
  std::vector<slot*> slabs;
  std::vector<std::unique_ptr<entry_heap>> heaps;
  std::vector<entry_heap*> abandoned;  // heaps of exited threads, adopted by new ones
  std::set<std::string> names;
  std::atomic<bool> enabled{true};
  std::atomic<std::uint64_t> next_id{1};
};

// Never destroyed: threads may still finish tasks while static destructors run.
registry_state& reg() {
  static registry_state* r = new registry_state;
  return *r;
}

// fork() waits for the registry's lock (and, through reg(), for a first use under way in another
// thread), so the child never inherits it held by a thread it does not have. Nothing logs or
// waits on another lock while holding it.
void fork_prepare() { reg().mu.lock(); }
void fork_release() { reg().mu.unlock(); }  // in the parent, and in the child by the thread that forked
[[maybe_unused]] const bool g_fork_handlers = ::pthread_atfork(fork_prepare, fork_release, fork_release) == 0;

// Freed slots of another thread's heap, returned in batches: one CAS per batch instead of one per
// job keeps the home heap's line from bouncing between workers.
constexpr int free_batch = 32;
struct pending_frees {
  entry_heap* heap = nullptr;
  slot* head = nullptr;
  slot* tail = nullptr;
  int count = 0;
  void flush() noexcept {
    if (head == nullptr) return;
    slot* old = heap->remote.load(std::memory_order_relaxed);
    do {
      set_next(tail, old);
    } while (!heap->remote.compare_exchange_weak(old, head, std::memory_order_release, std::memory_order_relaxed));
    head = tail = nullptr;
    count = 0;
  }
};

// The calling thread's heap; abandoned (not freed) when the thread exits, since jobs it created
// may still be running elsewhere and will free their slots into it.
struct heap_holder {
  entry_heap* heap = nullptr;
  pending_frees pending;
  ~heap_holder() {
    pending.flush();
    if (heap == nullptr) return;
    registry_state& r = reg();
    std::lock_guard g(r.mu);
    r.abandoned.push_back(heap);
    heap = nullptr;
  }
};
thread_local heap_holder tls_heap;

entry_heap* my_heap() {
  if (tls_heap.heap != nullptr) return tls_heap.heap;
  registry_state& r = reg();
  std::lock_guard g(r.mu);
  if (!r.abandoned.empty()) {
    tls_heap.heap = r.abandoned.back();
    r.abandoned.pop_back();
  } else {
    r.heaps.push_back(std::make_unique<entry_heap>());
    tls_heap.heap = r.heaps.back().get();
  }
  return tls_heap.heap;
}

slot* grow(entry_heap* h) {
  void* mem = ::operator new(slab_bytes, std::align_val_t{slab_bytes});
  auto* slots = static_cast<slot*>(mem);
  for (std::size_t i = 0; i < slots_per_slab; ++i) new (&slots[i]) slot;
  new (slots[0].payload) slab_header{h};
  for (std::size_t i = 1; i < slots_per_slab; ++i) set_next(&slots[i], i + 1 < slots_per_slab ? &slots[i + 1] : nullptr);
  registry_state& r = reg();
  std::lock_guard g(r.mu);
  r.slabs.push_back(slots);
  return &slots[1];
}

slot* take_slot() {
  entry_heap* h = my_heap();
  slot* s = h->local;
  if (s == nullptr) s = h->remote.exchange(nullptr, std::memory_order_acquire);
  if (s == nullptr) s = grow(h);
  h->local = get_next(s);
  return s;
}

void give_slot(slot* s) noexcept {
  entry_heap* home = home_of(s);
  if (home == tls_heap.heap) {
    set_next(s, home->local);
    home->local = s;
    return;
  }
  pending_frees& p = tls_heap.pending;
  if (p.heap != home) {
    p.flush();
    p.heap = home;
  }
  set_next(s, p.head);
  p.head = s;
  if (p.tail == nullptr) p.tail = s;
  if (++p.count >= free_batch) p.flush();
}

// Copies the live slots, validating each against concurrent reuse with its sequence counter.
std::vector<tasks::task_info> snapshot() {
  std::vector<tasks::task_info> out;
  const std::int64_t now = now_ticks();
  registry_state& r = reg();
  std::lock_guard g(r.mu);
  for (slot* slab : r.slabs) {
    for (std::size_t i = 1; i < slots_per_slab; ++i) {
      const task_entry& e = slab[i].header;
      for (int attempt = 0; attempt < 8; ++attempt) {
        const std::uint32_t s1 = e.seq.load(std::memory_order_acquire);
        if ((s1 & 1U) != 0) continue;
        const std::uint8_t st = e.state.load(std::memory_order_relaxed);
        if (st == entry_free) break;
        const task_cold& c = slab[i].cold;
        tasks::task_info t;
        t.id = c.id.load(std::memory_order_relaxed);
        const char* owner = c.owner.load(std::memory_order_relaxed);
        const char* file = c.file.load(std::memory_order_relaxed);
        const char* function = c.function.load(std::memory_order_relaxed);
        t.line = c.line.load(std::memory_order_relaxed);
        t.creator_gid = c.creator_gid.load(std::memory_order_relaxed);
        t.executor_gid = e.executor_gid.load(std::memory_order_relaxed);
        const std::int64_t created = c.created_ticks.load(std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (e.seq.load(std::memory_order_relaxed) != s1) continue;
        t.state = static_cast<task_state>(st);
        t.owner = owner != nullptr ? owner : "?";
        t.file = file != nullptr ? file : "?";
        t.function = function != nullptr ? function : "?";
        t.age = std::chrono::nanoseconds(std::max<std::int64_t>(0, ticks_to_ns(now - created)));
        out.push_back(std::move(t));
        break;
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::string format_age(std::chrono::nanoseconds age) {
  using namespace std::chrono;
  const auto plural = [](long long n, const char* unit) {
    return fmt::format("{} {}{}", n, unit, n == 1 ? "" : "s");
  };
  if (age < seconds(1)) return fmt::format("{} ms", duration_cast<milliseconds>(age).count());
  if (age < minutes(1)) return plural(duration_cast<seconds>(age).count(), "second");
  if (age < hours(1)) return plural(duration_cast<minutes>(age).count(), "minute");
  return plural(duration_cast<hours>(age).count(), "hour");
}

}  // namespace

std::uint64_t next_task_id() noexcept { return reg().next_id.fetch_add(1, std::memory_order_relaxed); }

bool register_in(task_entry* e, const char* owner, task_state st, const source_location& loc, std::uint64_t id,
                 std::uint32_t creator_gid, std::int64_t created_ticks) noexcept {
  if (!reg().enabled.load(std::memory_order_relaxed)) return false;
  // Seqlock write: odd counter, fields, even counter. A reader that saw the old even value and
  // reads any new field sees a changed counter afterwards and drops what it read.
  const std::uint32_t s = e->seq.load(std::memory_order_relaxed);
  e->seq.store(s + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  task_cold& c = cold_of(e);
  c.id.store(id, std::memory_order_relaxed);
  c.owner.store(owner, std::memory_order_relaxed);
  c.file.store(loc.file_name(), std::memory_order_relaxed);
  c.function.store(loc.function_name(), std::memory_order_relaxed);
  c.line.store(static_cast<std::uint32_t>(loc.line()), std::memory_order_relaxed);
  c.creator_gid.store(creator_gid, std::memory_order_relaxed);
  c.created_ticks.store(created_ticks, std::memory_order_relaxed);
  e->executor_gid.store(0, std::memory_order_relaxed);
  e->state.store(static_cast<std::uint8_t>(st), std::memory_order_relaxed);
  e->seq.store(s + 2, std::memory_order_release);
  return true;
}

void* slot_payload_alloc() { return take_slot()->payload; }

void slot_payload_free(void* payload) noexcept { give_slot(slot_of(payload)); }

void flush_freed_slots() noexcept { tls_heap.pending.flush(); }

task_entry* register_task(const char* owner, task_state st, const source_location& loc, std::uint64_t id,
                          std::uint32_t creator_gid, std::int64_t created_ticks) noexcept {
  if (!reg().enabled.load(std::memory_order_relaxed)) return nullptr;
  try {
    slot* sl = take_slot();
    register_in(&sl->header, owner, st, loc, id, creator_gid, created_ticks);
    return &sl->header;
  } catch (...) {
    return nullptr;  // out of memory: the task runs unregistered
  }
}

void unregister_task(task_entry* e) noexcept {
  if (e == nullptr) return;
  e->state.store(entry_free, std::memory_order_release);
  give_slot(reinterpret_cast<slot*>(e));
}

const char* intern_name(const std::string& name) {
  registry_state& r = reg();
  std::lock_guard g(r.mu);
  return r.names.insert(name).first->c_str();
}

}  // namespace detail

std::string_view to_string(task_state s) noexcept {
  switch (s) {
    case task_state::blocked_in_submit: return "blocked in submit";
    case task_state::waiting_for_token: return "waiting for token";
    case task_state::queued: return "queued";
    case task_state::running: return "running";
    case task_state::succeeded: return "succeeded";
    case task_state::failed: return "failed";
    case task_state::cancelled: return "cancelled";
    case task_state::timed_out: return "timed out";
  }
  return "?";
}

namespace tasks {

std::size_t count() noexcept {
  detail::registry_state& r = detail::reg();
  std::size_t n = 0;
  std::lock_guard g(r.mu);
  for (detail::slot* slab : r.slabs) {
    for (std::size_t i = 1; i < detail::slots_per_slab; ++i) {
      n += slab[i].header.state.load(std::memory_order_acquire) != detail::entry_free ? 1 : 0;
    }
  }
  return n;
}

std::vector<task_info> list() { return detail::snapshot(); }

std::string describe(const task_info& t) {
  std::string s = fmt::format("task {} [{}, {}]:\n\towner {}, created by gid-{}", t.id, to_string(t.state),
                              detail::format_age(t.age), t.owner, t.creator_gid);
  if (t.executor_gid != 0) s += fmt::format(", running on gid-{}", t.executor_gid);
  s += fmt::format("\n\tcreated at {}:{} in {}", t.file, t.line, t.function);
  return s;
}

std::string profile(int debug) {
  const std::vector<task_info> all = detail::snapshot();
  std::string out;
  if (debug >= 2) {
    for (const task_info& t : all) {
      out += describe(t);
      out += "\n\n";
    }
    return out;
  }
  struct group {
    std::size_t count = 0;
    std::uint64_t first_id = 0;
  };
  using key = std::tuple<std::string, int, std::string, std::uint32_t, std::string>;
  std::map<key, group> groups;
  for (const task_info& t : all) {
    group& g = groups[key{t.owner, static_cast<int>(t.state), t.file, t.line, t.function}];
    if (g.count++ == 0) g.first_id = t.id;
  }
  std::vector<std::pair<key, group>> sorted(groups.begin(), groups.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second.count != b.second.count ? a.second.count > b.second.count : a.second.first_id < b.second.first_id;
  });
  out = fmt::format("task profile: total {}\n", all.size());
  for (const auto& [k, g] : sorted) {
    out += fmt::format("{} @ {} [{}]\n#\tcreated at {}:{} in {}\n\n", g.count, std::get<0>(k),
                       to_string(static_cast<task_state>(std::get<1>(k))), std::get<2>(k), std::get<3>(k),
                       std::get<4>(k));
  }
  return out;
}

void set_registration(bool on) noexcept { detail::reg().enabled.store(on, std::memory_order_relaxed); }
bool registration() noexcept { return detail::reg().enabled.load(std::memory_order_relaxed); }

}  // namespace tasks
}  // namespace v0
}  // namespace gidlog
