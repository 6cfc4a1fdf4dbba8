#pragma once
// What the crash record says (src/lifecycle/crash_report.cpp), for the crash handler
// (src/lifecycle/crash.cpp). The handler fills the description on the crashing thread, in a signal
// handler: static storage, no allocation. Whoever writes the record (the backend thread, or the
// crashing thread when no backend runs) symbolizes its frames and formats them.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <gidlog/detail/record.h>

#include "backend/message_format.h"

namespace gidlog {
inline namespace v0 {
namespace detail {
namespace crash_report {

constexpr int max_frames = 48;

// The one crash being handled (the first thread to crash owns it).
struct crash_info {
  char what[640];        // "SIGSEGV (SEGV_MAPERR, address 0x0)", "uncaught exception ...", ...
  char thread_name[17];  // prctl(PR_GET_NAME)
  std::uint32_t gid;
  void* frames[max_frames];
  int nframes;
  bool first_exact;  // frames[0] is the faulting instruction, not a return address
};
extern crash_info g_info;  // written by the crash handler, read by whoever writes the record

// ---- async-signal-safe text ---------------------------------------------------------------------

struct text {
  char* buf;
  std::size_t cap, len = 0;
  text& operator<<(std::string_view s) noexcept {
    for (char ch : s)
      if (len + 1 < cap) buf[len++] = ch;
    buf[len] = '\0';
    return *this;
  }
  text& hex(std::uintptr_t v) noexcept {
    char tmp[2 + 2 * sizeof v];
    int n = 0;
    do {
      tmp[n++] = "0123456789abcdef"[v & 15];
      v >>= 4;
    } while (v != 0);
    *this << "0x";
    while (n > 0) *this << std::string_view(&tmp[--n], 1);
    return *this;
  }
  text& dec(long v) noexcept {
    char tmp[24];
    int n = 0;
    unsigned long u = v < 0 ? 0UL - static_cast<unsigned long>(v) : static_cast<unsigned long>(v);
    do {
      tmp[n++] = static_cast<char>('0' + u % 10);
      u /= 10;
    } while (u != 0);
    if (v < 0) *this << "-";
    while (n > 0) *this << std::string_view(&tmp[--n], 1);
    return *this;
  }
};

// "SEGV_MAPERR", "SI_USER", ... for a signal's si_code; nullptr when it has no name here.
const char* code_name(int sig, int code) noexcept;

// The crash record: g_info's description, thread and frames as its one argument. On the crashing
// thread, after g_info is filled.
void make_record(record& r) noexcept;

// For the writer, on the thread that writes a record with fields: when `site` is the crash
// record's, fills `fields` with "crash" (what happened), "thread" (its name) and "frames" (a JSON
// array: addr, func, file, line, inlined, module, offset per frame) and returns true. Their text
// is kept in `text`. May throw (std::bad_alloc). crash_install() registers it with
// set_crash_record_fields() (src/backend/crash_record.h), so the writer never includes this layer.
bool crash_record_fields(const site_info& site, std::span<const arg_value> args, std::vector<field>& fields,
                         fmt::memory_buffer& text);

}  // namespace crash_report
}  // namespace detail
}  // namespace v0
}  // namespace gidlog
