#pragma once
// The queue record and the binary argument encoding shared by the caller (encode) and the
// backend (decode). Internal: may change in any release.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <gidlog/config.h>
#include <gidlog/detail/std_types.h>
#include <gidlog/format.h>
#include <gidlog/level.h>

namespace gidlog {
inline namespace v0 {

class logger;  // gidlog/logger.h

namespace detail {

// Static per-call-site data, one per LOG_* statement (a constinit local static).
struct site_info {
  gidlog::level level;
  std::uint32_t line;
  const char* path;      // __FILE__
  const char* file;      // its base name
  const char* function;  // __func__
  const char* logger;    // nullptr: options::name
  std::string_view format;
  void* backend_cache = nullptr;  // the backend's parsed format; touched under its writer lock only
};

constexpr const char* base_name(const char* path) noexcept {
  const char* base = path;
  for (const char* p = path; *p != '\0'; ++p)
    if (*p == '/') base = p + 1;
  return base;
}

// How each argument travels. Strings are copied as a 4-byte length and their bytes; everything
// else as its object representation.
enum class arg_kind : std::uint8_t {
  boolean, character, i32, u32, i64, u64, f32, f64, f80, pointer, string,
  custom,  // a deferred_format type: 4-byte size, its bytes, formatted through record_meta::custom
};

// Formats a deferred_format argument from its `size` bytes: `buffer` is a
// fmt::detail::buffer<char>, `format` a one-field format string such as "{}" or "{:>8}".
using custom_format_fn = void (*)(void* buffer, std::string_view format, const unsigned char* bytes, std::size_t size);

// record_meta::flags: what the payload carries before the arguments (in this order), and how the
// backend treats the record. A flag is a property of the meta, so a call site that never uses
// one pays nothing for it.
enum meta_flag : std::uint8_t {
  meta_logger = 1,      // payload starts with a `const logger*` (LOGGER_* sites); else the root logger
  meta_runtime = 2,     // then a u32 length and the run-time format string (runtime_format)
  meta_suppressed = 4,  // then a u64: calls a rate-limited macro skipped before this one
  meta_kept = 8,        // below the logger's level: kept in the backtrace ring, not written
  meta_dump = 16,       // dump_backtrace(): writes every ring, is not written itself
};

struct record_meta {
  const site_info* site;
  const arg_kind* kinds;
  std::uint8_t nargs;
  bool preformatted;              // the payload is the whole message, formatted on the caller
  const custom_format_fn* custom;  // per argument; nullptr entries for built-in kinds
  std::uint8_t flags = 0;         // meta_flag bits
  // Publishing this record wakes a sleeping backend whose flag is above this (see
  // wake_backend_for): 6 - the call site's level; 0 (whenever it sleeps) for gidlog's own.
  std::uint8_t wake_above = 0;
};

constexpr std::uint8_t wake_above_for(level l) noexcept { return static_cast<std::uint8_t>(6 - static_cast<int>(l)); }

// What a call adds to its record besides the arguments (each only when its meta_flag is set).
struct call_extras {
  const logger* lg = nullptr;
  std::string_view runtime_format;
  std::uint64_t suppressed = 0;
};

// Sentinel metas for control records; the backend compares addresses.
extern const record_meta flush_meta;    // payload: flush_request*
extern const record_meta nomem_meta;    // a spill allocation failed; payload: u32 bytes wanted, site*

struct context_node;  // gidlog/context.h

struct alignas(8) record {
  static constexpr std::size_t header_bytes = 32;
  static constexpr std::size_t inline_capacity = GIDLOG_RECORD_SIZE - header_bytes;

  const record_meta* meta;
  std::uint64_t ts;    // arch::cycles() at the call
  std::uint32_t gid;
  std::uint32_t size;  // payload bytes; above inline_capacity they live in a malloc'ed `spill`
  const context_node* context;  // the thread's context_scope fields at the call, or nullptr
  union {
    unsigned char bytes[inline_capacity];
    unsigned char* spill;
  } payload;

  const unsigned char* data() const noexcept { return size > inline_capacity ? payload.spill : payload.bytes; }
};
static_assert(sizeof(record) == GIDLOG_RECORD_SIZE);
static_assert(std::is_trivially_copyable_v<record>);

// ---- which types travel as values -------------------------------------------------------------

template <class T> struct is_std_string : std::false_type {};
template <class A> struct is_std_string<std::basic_string<char, std::char_traits<char>, A>> : std::true_type {};

template <class T>
constexpr bool is_c_string_v = std::is_same_v<T, const char*> || std::is_same_v<T, char*>;

template <class T>
constexpr bool is_string_arg_v =
    is_c_string_v<T> || is_std_string<T>::value || std::is_same_v<T, std::string_view> || is_u8_string_v<T>;

// Kind of a decayed argument type, or no value when it is formatted on the caller.
template <class T>
constexpr int kind_of() {
  using K = arg_kind;
  if constexpr (deferred_format<T>::value) {
    static_assert(std::is_trivially_copyable_v<T>, "gidlog::deferred_format<T> needs a trivially copyable T");
    return int(K::custom);
  } else if constexpr (std_capture<T>::value) return int(K::custom);
  else if constexpr (std::is_same_v<T, bool>) return int(K::boolean);
  else if constexpr (std::is_same_v<T, char> || std::is_same_v<T, char8_t>) return int(K::character);
  else if constexpr (std::is_enum_v<T>) {  // its format_as or formatter runs on the caller
    if constexpr (enum_as_integer_v<T>) return kind_of<std::underlying_type_t<T>>();
    else return -1;
  }
  else if constexpr (std::is_integral_v<T> && std::is_signed_v<T> && sizeof(T) <= 4) return int(K::i32);
  else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T> && sizeof(T) <= 4) return int(K::u32);
  else if constexpr (std::is_integral_v<T> && std::is_signed_v<T> && sizeof(T) == 8) return int(K::i64);
  else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T> && sizeof(T) == 8) return int(K::u64);
  else if constexpr (std::is_same_v<T, float>) return int(K::f32);
  else if constexpr (std::is_same_v<T, double>) return int(K::f64);
  else if constexpr (std::is_same_v<T, long double>) return int(K::f80);
  else if constexpr (std::is_same_v<T, const void*> || std::is_same_v<T, void*> || std::is_same_v<T, std::nullptr_t>)
    return int(K::pointer);
  else if constexpr (is_string_arg_v<T>) return int(K::string);
  else return -1;
}

template <class... A>
constexpr bool all_deferred_v = ((kind_of<std::decay_t<A>>() >= 0) && ...);

template <class... A>
inline constexpr arg_kind kinds_of[sizeof...(A) + 1] = {static_cast<arg_kind>(kind_of<std::decay_t<A>>())..., arg_kind::boolean};

// Defined in <gidlog/detail/frontend.h>, where fmt is available.
template <class T>
void format_deferred(void* buffer, std::string_view format, const unsigned char* bytes, std::size_t size);

template <class T>
constexpr custom_format_fn custom_fn_of() {
  if constexpr (deferred_format<T>::value) return &format_deferred<T>;
  else if constexpr (std_capture<T>::value) return std_capture<T>::fn;
  else return nullptr;
}

template <class... A>
inline constexpr custom_format_fn customs_of[sizeof...(A) + 1] = {custom_fn_of<std::decay_t<A>>()..., nullptr};

template <class... A>
constexpr bool any_custom_v = ((deferred_format<std::decay_t<A>>::value || std_capture<std::decay_t<A>>::value) || ...);

// A site's meta for a record at level Lvl (which decides whether it wakes a sleeping backend).
template <const site_info* Site, std::uint8_t Flags, level Lvl, class... A>
inline constexpr record_meta site_meta_v{Site,  kinds_of<A...>, static_cast<std::uint8_t>(sizeof...(A)), false,
                                         any_custom_v<A...> ? customs_of<A...> : nullptr, Flags, wake_above_for(Lvl)};

// A preformatted record carries no run-time format string: the text is already made.
template <const site_info* Site, std::uint8_t Flags, level Lvl>
inline constexpr record_meta preformatted_site_meta_v{Site, nullptr, 1, true, nullptr,
                                                      static_cast<std::uint8_t>(Flags & ~meta_runtime), wake_above_for(Lvl)};

// gidlog's own records (level off: they wake a sleeping backend whatever its flag).
template <const site_info* Site, std::uint8_t Flags, class... A>
inline constexpr const record_meta& flagged_meta_v = site_meta_v<Site, Flags, level::off, A...>;

template <const site_info* Site, class... A>
inline constexpr const record_meta& meta_v = flagged_meta_v<Site, 0, A...>;

template <const site_info* Site, std::uint8_t Flags = 0>
inline constexpr const record_meta& preformatted_meta_v = preformatted_site_meta_v<Site, Flags, level::off>;

// A LOG_* call site's metas: `written`, and `kept` for a record kept in the backtrace ring
// (meta_kept), placed at the distance between the gate's two actions (keep_action - write_action
// bytes, see call_gate.h) so that a call finds its meta by adding its action to the address, with
// no branch and no multiplication. Data of the site alone; the code that encodes a call is shared
// by every site with the same argument types.
inline constexpr std::size_t kept_meta_offset = 0x80;
struct site_metas {
  record_meta written;
  unsigned char gap[kept_meta_offset - sizeof(record_meta)] = {};
  record_meta kept;
};
static_assert(offsetof(site_metas, kept) == kept_meta_offset);

constexpr record_meta with_flags(record_meta m, std::uint8_t flags) noexcept {
  m.flags = flags;
  return m;
}

template <const site_info* Site, std::uint8_t Flags, level Lvl, class... A>
inline constexpr site_metas site_metas_v{site_meta_v<Site, Flags, Lvl, A...>, {},
                                         with_flags(site_meta_v<Site, Flags, Lvl, A...>, Flags | meta_kept)};

template <const site_info* Site, std::uint8_t Flags, level Lvl>
inline constexpr site_metas preformatted_metas_v{
    preformatted_site_meta_v<Site, Flags, Lvl>, {},
    with_flags(preformatted_site_meta_v<Site, Flags, Lvl>, static_cast<std::uint8_t>((Flags & ~meta_runtime) | meta_kept))};

// ---- encoding ----------------------------------------------------------------------------------

// The fixed-size representation a value travels as: small integers widen to 32 bits, so the
// backend decodes one kind with one width.
template <class T>
constexpr auto wire_value(const T& v) noexcept {
  constexpr auto k = static_cast<arg_kind>(kind_of<T>());
  if constexpr (std::is_enum_v<T>) return wire_value(static_cast<std::underlying_type_t<T>>(v));
  else if constexpr (std::is_same_v<T, char8_t>) return static_cast<char>(v);
  else if constexpr (k == arg_kind::i32) return static_cast<std::int32_t>(v);
  else if constexpr (k == arg_kind::u32) return static_cast<std::uint32_t>(v);
  else if constexpr (k == arg_kind::i64) return static_cast<std::int64_t>(v);
  else if constexpr (k == arg_kind::u64) return static_cast<std::uint64_t>(v);
  else if constexpr (k == arg_kind::pointer) return static_cast<const void*>(v);
  else return v;
}

template <class T>
constexpr std::size_t fixed_size() noexcept {
  return sizeof(decltype(wire_value(std::declval<const T&>())));
}

inline std::string_view as_string_view(const char* s) noexcept { return s ? std::string_view{s} : std::string_view{"(null)"}; }
inline std::string_view as_string_view(std::string_view s) noexcept { return s; }
template <class A>
std::string_view as_string_view(const std::basic_string<char, std::char_traits<char>, A>& s) noexcept { return {s.data(), s.size()}; }

template <class T>
[[gnu::always_inline]] inline std::size_t encoded_size(const T& v) noexcept {
  using D = std::decay_t<T>;
  if constexpr (deferred_format<D>::value) return 4 + sizeof(D);
  else if constexpr (std_capture<D>::value) return 4 + std_capture<D>::size(v);
  else if constexpr (is_string_arg_v<D>) return 4 + as_string_view(v).size();
  else return fixed_size<D>();
}

// Copies a string's bytes (an argument's on the caller, a piece of a text or JSON line on the
// backend). Up to 32 bytes they are two overlapping loads and stores here (under 4, byte by byte),
// instead of a call to memcpy (which also made the caller save its registers around it).
// 4 to 16 bytes: two overlapping loads and stores.
[[gnu::always_inline]] inline void copy_4_to_16(unsigned char* out, const char* in, std::size_t n) noexcept {
  if (n >= 8) {
    std::uint64_t a, b;
    std::memcpy(&a, in, 8);
    std::memcpy(&b, in + n - 8, 8);
    std::memcpy(out, &a, 8);
    std::memcpy(out + n - 8, &b, 8);
  } else {
    std::uint32_t a, b;
    std::memcpy(&a, in, 4);
    std::memcpy(&b, in + n - 4, 4);
    std::memcpy(out, &a, 4);
    std::memcpy(out + n - 4, &b, 4);
  }
}

[[gnu::always_inline]] inline void copy_string(unsigned char* out, std::string_view s) noexcept {
  const std::size_t n = s.size();
  const char* in = s.data();
  if (n >= 4 && n <= 16) {
    copy_4_to_16(out, in, n);
  } else if (n > 16 && n <= 32) {
    unsigned char a[16], b[16];
    std::memcpy(a, in, 16);
    std::memcpy(b, in + n - 16, 16);
    std::memcpy(out, a, 16);
    std::memcpy(out + n - 16, b, 16);
  } else if (n < 4) {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<unsigned char>(in[i]);
  } else {
    std::memcpy(out, in, n);
  }
}

template <class T>
[[gnu::always_inline]] inline unsigned char* encode_one(unsigned char* out, const T& v) noexcept {
  using D = std::decay_t<T>;
  if constexpr (deferred_format<D>::value) {
    auto n = static_cast<std::uint32_t>(sizeof(D));
    std::memcpy(out, &n, 4);
    std::memcpy(out + 4, &v, sizeof(D));
    return out + 4 + sizeof(D);
  } else if constexpr (std_capture<D>::value) {
    const auto n = static_cast<std::uint32_t>(std_capture<D>::size(v));
    std::memcpy(out, &n, 4);
    std_capture<D>::write(out + 4, v);
    return out + 4 + n;
  } else if constexpr (is_string_arg_v<D>) {
    std::string_view s = as_string_view(v);
    auto n = static_cast<std::uint32_t>(s.size());
    std::memcpy(out, &n, 4);
    copy_string(out + 4, s);
    return out + 4 + s.size();
  } else {
    auto w = wire_value<D>(v);
    std::memcpy(out, &w, sizeof w);
    return out + sizeof w;
  }
}

// False on a signal handler's LOG_* call that interrupted a LOG_* call of its thread (its record
// goes to the thread's stash, see detail/frontend.h): the allocator may be the interrupted call's.
// Out of line (src/frontend); only the spilling paths ask.
bool may_allocate() noexcept;

// Reserves `n` payload bytes in `r`: inline when they fit (tested first: the usual case), else a
// malloc'ed block the backend frees. nullptr when `n` does not fit the 32-bit size, malloc fails
// or may not be called (may_allocate): the caller then records a nomem_meta record instead.
inline unsigned char* reserve_payload(record& r, std::size_t n) noexcept {
  if (n <= record::inline_capacity) [[likely]] {
    r.size = static_cast<std::uint32_t>(n);
    return r.payload.bytes;
  }
  if (n > UINT32_MAX || !may_allocate()) return nullptr;
  r.size = static_cast<std::uint32_t>(n);
  auto* p = static_cast<unsigned char*>(std::malloc(n));
  r.payload.spill = p;
  return p;
}

// reserve_payload for a payload that does not fit the record, out of line (src/frontend): the
// malloc'ed block, or nullptr after turning r into a nomem record for meta's site.
unsigned char* reserve_spill(record& r, std::size_t n, const record_meta* meta) noexcept;

// A string argument as it travels: a 4-byte length, then its bytes. Out of line (src/frontend):
// one copy of copy_string's branches for every call site's strings.
unsigned char* put_string(unsigned char* out, const char* data, std::size_t size) noexcept;

// Turns r into a record saying that `want` payload bytes for `site` could not be allocated.
inline void make_nomem(record& r, std::size_t want, const site_info* site) noexcept {
  auto w = static_cast<std::uint32_t>(want > UINT32_MAX ? UINT32_MAX : want);
  r.meta = &nomem_meta;
  r.size = 4 + sizeof site;
  std::memcpy(r.payload.bytes, &w, 4);
  std::memcpy(r.payload.bytes + 4, &site, sizeof site);
}

// ---- what travels before the arguments (meta_flag) --------------------------------------------

inline std::size_t prefix_size(std::uint8_t flags, const call_extras& x) noexcept {
  return ((flags & meta_logger) ? sizeof(const logger*) : 0) + ((flags & meta_runtime) ? 4 + x.runtime_format.size() : 0) +
         ((flags & meta_suppressed) ? 8 : 0);
}

inline unsigned char* write_prefix(unsigned char* out, std::uint8_t flags, const call_extras& x) noexcept {
  if (flags & meta_logger) {
    std::memcpy(out, &x.lg, sizeof x.lg);
    out += sizeof x.lg;
  }
  if (flags & meta_runtime) {
    auto n = static_cast<std::uint32_t>(x.runtime_format.size());
    std::memcpy(out, &n, 4);
    std::memcpy(out + 4, x.runtime_format.data(), n);
    out += 4 + n;
  }
  if (flags & meta_suppressed) {
    std::memcpy(out, &x.suppressed, 8);
    out += 8;
  }
  return out;
}

// A record's payload split into what write_prefix wrote and the arguments (or text) after it.
struct payload_view {
  const logger* lg = nullptr;  // nullptr: the root logger
  std::string_view runtime_format;
  std::uint64_t suppressed = 0;
  const unsigned char* data = nullptr;
  std::uint32_t size = 0;
};

inline payload_view view_payload(const record& r) noexcept {
  payload_view v;
  const unsigned char* p = r.data();
  const std::uint8_t flags = r.meta != nullptr ? r.meta->flags : 0;
  if (flags & meta_logger) {
    std::memcpy(&v.lg, p, sizeof v.lg);
    p += sizeof v.lg;
  }
  if (flags & meta_runtime) {
    std::uint32_t n;
    std::memcpy(&n, p, 4);
    v.runtime_format = {reinterpret_cast<const char*>(p + 4), n};
    p += 4 + n;
  }
  if (flags & meta_suppressed) {
    std::memcpy(&v.suppressed, p, 8);
    p += 8;
  }
  v.data = p;
  v.size = static_cast<std::uint32_t>(r.size - static_cast<std::size_t>(p - r.data()));
  return v;
}

// A string argument as the view it travels as, so that its length is measured once (a C string's
// strlen served the size and then the copy); every other argument as it is.
template <class T>
[[gnu::always_inline]] inline decltype(auto) wire_arg(const T& v) noexcept {
  if constexpr (is_string_arg_v<std::decay_t<T>>) {
    return as_string_view(v);
  } else {
    return (v);
  }
}

// The type an argument is handed to the shared encoder as (see detail/frontend.h, emit_values): a
// value in a register wherever it travels as a value (integers widened as on the wire, every
// string but a C string as a view, pointers as const void*), a reference to a captured object.
// Sites whose arguments differ only in ways the wire forgets share one encoder.
template <class T>
auto pass_type_id() {
  constexpr int k = kind_of<T>();
  if constexpr (k == int(arg_kind::custom) || k == int(arg_kind::f80)) return std::type_identity<const T&>{};
  else if constexpr (k == int(arg_kind::string)) {
    if constexpr (is_c_string_v<T>) return std::type_identity<const char*>{};
    else return std::type_identity<std::string_view>{};
  } else return std::type_identity<decltype(wire_value(std::declval<const T&>()))>{};
}
template <class T>
using pass_t = typename decltype(pass_type_id<std::decay_t<T>>())::type;

template <class T>
[[gnu::always_inline]] inline pass_t<T> pass_arg(const T& v) noexcept {
  using D = std::decay_t<T>;
  if constexpr (std::is_reference_v<pass_t<T>> || is_c_string_v<D>) return v;
  else if constexpr (is_string_arg_v<D>) return as_string_view(v);
  else return wire_value(v);
}

// An argument into the payload at `out`. A string of 4 to 16 bytes (most words, names and ids)
// is copied here; any other goes through put_string.
template <class T>
[[gnu::always_inline]] inline unsigned char* encode_passed(unsigned char* out, const T& v) noexcept {
  if constexpr (std::is_same_v<T, std::string_view>) {
    const std::size_t n = v.size();
    if (n - 4 > 12) return put_string(out, v.data(), n);
    const auto len = static_cast<std::uint32_t>(n);
    std::memcpy(out, &len, 4);
    copy_4_to_16(out + 4, v.data(), n);
    return out + 4 + n;
  } else {
    return encode_one(out, v);
  }
}

// encode_flagged's work, on the arguments' wire forms, under `meta`: inlined into the encoder of
// a list of argument types (emit_values) or of a gidlog record.
template <std::uint8_t Flags, class... W>
[[gnu::always_inline]] inline void encode_wire(record& r, const record_meta* meta, const call_extras& x,
                                               const W&... w) noexcept {
  std::size_t n = (std::size_t{0} + ... + encoded_size(w));
  if constexpr (Flags != 0) n += prefix_size(Flags, x);
  unsigned char* out;
  if (n <= record::inline_capacity) [[likely]] {
    r.size = static_cast<std::uint32_t>(n);
    out = r.payload.bytes;
  } else if ((out = reserve_spill(r, n, meta)) == nullptr) {
    return;
  }
  r.meta = meta;
  if constexpr (Flags != 0) out = write_prefix(out, Flags, x);
  ((out = encode_passed(out, w)), ...);
}

// Fills r.meta/r.size/r.payload from the arguments. When the spill cannot be allocated, r
// becomes a nomem record: still enqueued, so the loss is written into the log and counted.
// `kept`: the record goes to its logger's backtrace ring (meta_kept added to Flags).
template <const site_info* Site, std::uint8_t Flags, class... A>
[[gnu::always_inline]] inline void encode_flagged(record& r, bool kept, const call_extras& x, const A&... args) noexcept {
  // A kept record is rare (the compiler may still make this a select).
  const record_meta* meta = &flagged_meta_v<Site, Flags, A...>;
  if (__builtin_expect(kept, 0)) meta = &flagged_meta_v<Site, Flags | meta_kept, A...>;
  encode_wire<Flags>(r, meta, x, wire_arg(args)...);
}

template <const site_info* Site, class... A>
void encode_args(record& r, const A&... args) noexcept {
  encode_flagged<Site, 0>(r, false, call_extras{}, args...);
}

// A preformatted record: the whole message as one string, under `meta` (a preformatted meta),
// after the prefix its flags ask for.
inline void encode_text(record& r, const record_meta* meta, std::string_view msg, const call_extras& x = {}) noexcept {
  const std::size_t n = prefix_size(meta->flags, x) + msg.size();
  unsigned char* out = reserve_payload(r, n);
  if (out == nullptr && n != 0) [[unlikely]] {
    make_nomem(r, n, meta->site);
    return;
  }
  r.meta = meta;
  if (n == 0) return;
  out = write_prefix(out, meta->flags, x);
  if (!msg.empty()) std::memcpy(out, msg.data(), msg.size());
}

template <const site_info* Site>
void encode_message(record& r, std::string_view msg) noexcept {
  encode_text(r, &preformatted_meta_v<Site>, msg);
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
