// W3C trace context: parsing and formatting traceparent, new ids, and the calling thread's context
// read back from its context_scope fields (which context_scope{trace_context} writes, in
// core/context.cpp).
#include <gidlog/trace_context.h>

#include <sys/random.h>

#include <chrono>
#include <cstring>

#include <gidlog/gid.h>

#include "core/trace_fields.h"

namespace gidlog {
inline namespace v0 {
namespace {

// The value of a lowercase hex digit, or -1 (uppercase is not allowed: HEXDIGLC in the spec).
int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Reads 2 * N lowercase hex digits into `out`; false on any other character or a short text.
template <std::size_t N>
bool read_hex(std::string_view text, std::array<std::uint8_t, N>& out) noexcept {
  if (text.size() != 2 * N) return false;
  for (std::size_t i = 0; i < N; ++i) {
    const int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

template <std::size_t N>
bool all_zero(const std::array<std::uint8_t, N>& a) noexcept {
  for (std::uint8_t b : a)
    if (b != 0) return false;
  return true;
}

constexpr char hex_chars[] = "0123456789abcdef";

template <std::size_t N>
void append_hex(std::string& out, const std::array<std::uint8_t, N>& a) {
  for (std::uint8_t b : a) {
    out += hex_chars[b >> 4];
    out += hex_chars[b & 0xf];
  }
}

template <std::size_t N>
std::string hex(const std::array<std::uint8_t, N>& a) {
  std::string s;
  s.reserve(2 * N);
  append_hex(s, a);
  return s;
}

// Ids: splitmix64 over a per-thread state seeded from getrandom(2). Not for secrets; the spec asks
// for ids unique enough not to collide, which 64 random bits per span and 128 per trace give. The
// state is seeded again when the thread's TID changes: in a fork() child the thread has a new TID,
// so parent and child never hand out the same ids.
struct id_source {
  std::uint64_t state = 0;
  std::uint32_t seeded_for = 0;  // the TID that seeded it; 0: not yet

  std::uint64_t next() noexcept {
    const std::uint32_t me = gid();
    if (me != seeded_for) seed(me);
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  void seed(std::uint32_t me) noexcept {
    std::uint64_t s = 0;
    if (::getrandom(&s, sizeof s, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof s)) {
      // No entropy yet (early boot) or no getrandom: the time, the TID and this state's address
      // still differ between threads and processes.
      s = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
          (std::uint64_t{me} << 32) ^ reinterpret_cast<std::uintptr_t>(this);
    }
    state ^= s;
    seeded_for = me;
  }
};

thread_local id_source ids;  // constant-initialized: no TLS guard, nothing for a thread that never uses it

template <std::size_t N>
void fill_random(std::array<std::uint8_t, N>& a) noexcept {
  do {
    for (std::size_t i = 0; i < N; i += 8) {
      const std::uint64_t r = ids.next();
      std::memcpy(a.data() + i, &r, N - i < 8 ? N - i : 8);
    }
  } while (all_zero(a));  // an all-zero id is invalid
}

}  // namespace

std::optional<trace_context> trace_context::parse(std::string_view h) noexcept {
  // version "-" trace-id "-" parent-id "-" trace-flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 bytes.
  constexpr std::size_t v00_size = 55;
  if (h.size() < v00_size) return std::nullopt;
  const int v_hi = hex_digit(h[0]), v_lo = hex_digit(h[1]);
  if (v_hi < 0 || v_lo < 0 || h[2] != '-') return std::nullopt;
  const int version = v_hi << 4 | v_lo;
  if (version == 0xff) return std::nullopt;  // forbidden
  // Version 00 is exactly 55 bytes. A higher version may add fields after a `-` (the spec:
  // parse the first three, check each is followed by a dash or, for the flags, the end).
  if (version == 0 ? h.size() != v00_size : h.size() > v00_size && h[v00_size] != '-') return std::nullopt;
  if (h[35] != '-' || h[52] != '-') return std::nullopt;
  trace_context t;
  std::array<std::uint8_t, 1> flags{};
  if (!read_hex(h.substr(3, 32), t.trace_) || !read_hex(h.substr(36, 16), t.span_) ||
      !read_hex(h.substr(53, 2), flags))
    return std::nullopt;
  if (all_zero(t.trace_) || all_zero(t.span_)) return std::nullopt;
  t.flags_ = flags[0] & flag_sampled;  // the only flag version 00 defines; the others are set to zero
  return t;
}

trace_context trace_context::make_root(bool sampled) {
  trace_context t;
  fill_random(t.trace_);
  fill_random(t.span_);
  t.flags_ = sampled ? flag_sampled : 0;
  return t;
}

trace_context trace_context::child() const {
  if (!valid()) return make_root();
  trace_context c;
  c.trace_ = trace_;
  c.parent_ = span_;
  c.flags_ = flags_;
  fill_random(c.span_);
  return c;
}

trace_context trace_context::current() noexcept {
  const detail::context_node* n = detail::tl_context;
  if (n == nullptr) return {};
  trace_context t;
  bool have_trace = false, have_span = false;
  for (const field& f : n->fields) {
    if (f.value.type != field_value::kind::string) continue;
    const std::string_view v = f.value.s;
    if (f.name == detail::trace_field::trace_id) {
      have_trace = read_hex(v, t.trace_);
    } else if (f.name == detail::trace_field::span_id) {
      have_span = read_hex(v, t.span_);
    } else if (f.name == detail::trace_field::parent_span_id) {
      if (!read_hex(v, t.parent_)) t.parent_ = {};
    } else if (f.name == detail::trace_field::trace_flags) {
      std::array<std::uint8_t, 1> flags{};
      if (read_hex(v, flags)) t.flags_ = flags[0] & flag_sampled;
    }
  }
  // Fields a user set by hand to something else than hex ids are not a trace context.
  if (!have_trace || !have_span || !t.valid()) return {};
  return t;
}

bool trace_context::valid() const noexcept { return !all_zero(trace_) && !all_zero(span_); }
bool trace_context::has_parent() const noexcept { return !all_zero(parent_); }

std::string trace_context::traceparent() const {
  if (!valid()) return {};
  std::string s;
  s.reserve(55);
  s += "00-";
  append_hex(s, trace_);
  s += '-';
  append_hex(s, span_);
  s += '-';
  append_hex(s, std::array<std::uint8_t, 1>{flags_});
  return s;
}

std::string trace_context::trace_id() const { return hex(trace_); }
std::string trace_context::span_id() const { return hex(span_); }
std::string trace_context::parent_span_id() const { return has_parent() ? hex(parent_) : std::string{}; }

}  // namespace v0
}  // namespace gidlog
