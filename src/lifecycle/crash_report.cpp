// What the crash record says: the one crash's description (g_info, filled by the crash handler
// in src/lifecycle/crash.cpp on the crashing thread), the record that carries it (make_record(),
// on the crashing thread, no allocation), and how it is written: the message with its backtrace
// (the fmt formatter) and the record's fields (crash_record_fields()). Those two run on the
// thread that writes the record: the backend thread, or the crashing thread when no backend runs
// (then with dladdr() only, see crash_frames()).
#include "lifecycle/crash_report.h"

#include <dlfcn.h>
#include <signal.h>

#include <chrono>
#include <cstring>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include <gidlog/gid.h>
#include <gidlog/level.h>
#include <gidlog/arch/cpu.h>
#include <gidlog/introspect/threads.h>

#include "core/shared.h"
#include "introspect/symbolizer.h"
#include "sinks/json_writer.h"

namespace gidlog {
inline namespace v0 {
namespace detail {
namespace crash_report {

crash_info g_info;

// The record's argument: a pointer to g_info, copied as bytes and formatted by whoever writes it.
struct crash_ref {
  const crash_info* info;
};

namespace {

// The crashing thread's frames with function, file:line and inlined calls (the libdw symbolizer,
// or dladdr() in a build without libdw), for whoever writes the crash record.
// Only dladdr() when this runs in a signal handler on the crashing thread itself (the backend
// crashed, or no backend runs): libdw reading DWARF overflowed the 64 KiB signal stack there.
std::vector<threads::frame> crash_frames(const crash_info& c) {
  std::vector<std::uintptr_t> pcs;
  for (int i = 0; i < c.nframes; ++i) pcs.push_back(reinterpret_cast<std::uintptr_t>(c.frames[i]));
  std::vector<threads::frame> out;
  stack_t ss{};
  const bool on_signal_stack = sigaltstack(nullptr, &ss) == 0 && (ss.ss_flags & SS_ONSTACK) != 0;
  try {
    if (!on_signal_stack) out = symbolize_within(pcs, c.first_exact, std::chrono::milliseconds(100));
  } catch (...) {
    out.clear();
  }
  if (!out.empty() || pcs.empty()) return out;
  // On the signal stack, or the symbolizer is busy (held by the thread that crashed?) or failed.
  for (std::uintptr_t pc : pcs) {
    threads::frame f;
    f.address = pc;
    Dl_info d{};
    if (dladdr(reinterpret_cast<void*>(pc), &d) != 0) {
      if (d.dli_fname != nullptr) f.module = d.dli_fname;
      f.offset = pc - reinterpret_cast<std::uintptr_t>(d.dli_fbase);
      if (d.dli_sname != nullptr) {
        f.function = demangle(d.dli_sname);
        f.offset = pc - reinterpret_cast<std::uintptr_t>(d.dli_saddr);
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace
}  // namespace crash_report
}  // namespace detail

template <>
struct deferred_format<detail::crash_report::crash_ref> : std::true_type {};

}  // namespace v0
}  // namespace gidlog

template <>
struct fmt::formatter<gidlog::detail::crash_report::crash_ref> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  auto format(const gidlog::detail::crash_report::crash_ref& ref, format_context& ctx) const {
    const auto& c = *ref.info;
    auto out = fmt::format_to(ctx.out(), "crash: {} in thread \"{}\" gid-{}", c.what, c.thread_name, c.gid);
    const auto frames = gidlog::detail::crash_report::crash_frames(c);
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const gidlog::threads::frame& f = frames[i];
      out = fmt::format_to(out, "\n    #{} {:#x} ", i, f.address);
      if (!f.file.empty()) {
        out = fmt::format_to(out, "{} at {}:{}{}", f.function.empty() ? "?" : f.function, f.file, f.line,
                             f.inlined ? " (inlined)" : "");
      } else if (!f.function.empty()) {
        out = fmt::format_to(out, "{}+{:#x} ({})", f.function, f.offset, f.module.empty() ? "?" : f.module);
      } else if (!f.module.empty()) {
        out = fmt::format_to(out, "({}+{:#x})", f.module, f.offset);
      } else {
        out = fmt::format_to(out, "?");
      }
    }
    return out;
  }
};

namespace gidlog {
inline namespace v0 {
namespace detail {
namespace crash_report {
namespace {

constinit site_info crash_site{gidlog::level::fatal, 0, "gidlog", "gidlog", "crash_handler", nullptr, "{}"};

}  // namespace

const char* code_name(int sig, int code) noexcept {
  switch (code) {
    case SI_USER: return "SI_USER";
    case SI_TKILL: return "SI_TKILL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_KERNEL: return "SI_KERNEL";
    default: break;
  }
  if (sig == SIGSEGV) {
    if (code == SEGV_MAPERR) return "SEGV_MAPERR";
    if (code == SEGV_ACCERR) return "SEGV_ACCERR";
  } else if (sig == SIGBUS) {
    if (code == BUS_ADRALN) return "BUS_ADRALN";
    if (code == BUS_ADRERR) return "BUS_ADRERR";
    if (code == BUS_OBJERR) return "BUS_OBJERR";
  } else if (sig == SIGFPE) {
    if (code == FPE_INTDIV) return "FPE_INTDIV";
    if (code == FPE_INTOVF) return "FPE_INTOVF";
    if (code == FPE_FLTDIV) return "FPE_FLTDIV";
    if (code == FPE_FLTOVF) return "FPE_FLTOVF";
    if (code == FPE_FLTUND) return "FPE_FLTUND";
    if (code == FPE_FLTRES) return "FPE_FLTRES";
    if (code == FPE_FLTINV) return "FPE_FLTINV";
  } else if (sig == SIGILL) {
    if (code == ILL_ILLOPC) return "ILL_ILLOPC";
    if (code == ILL_ILLOPN) return "ILL_ILLOPN";
    if (code == ILL_ILLADR) return "ILL_ILLADR";
    if (code == ILL_PRVOPC) return "ILL_PRVOPC";
  }
  return nullptr;
}

void make_record(record& r) noexcept {
  r = record{};
  r.ts = arch::cycles();
  r.gid = g_info.gid;
  r.context = tl_context;  // the crashing thread's request, kept alive by its scopes
  encode_args<&crash_site>(r, crash_ref{&g_info});
}

bool crash_record_fields(const site_info& site, std::span<const arg_value> args, std::vector<field>& fields,
                         fmt::memory_buffer& text) {
  if (&site != &crash_site || args.size() != 1 || args[0].kind != arg_kind::custom ||
      args[0].s.size() != sizeof(crash_ref))
    return false;
  crash_ref ref;
  std::memcpy(&ref, args[0].s.data(), sizeof ref);
  const crash_info& c = *ref.info;
  const std::vector<threads::frame> frames = crash_frames(c);
  // [{"addr":"0x…","func":"…","file":"…","line":23,"inlined":true,"module":"…","offset":"0x…"}, …]
  std::size_t bound = 8;
  for (const threads::frame& f : frames)
    bound += 160 + escaped_bound(f.function.size() + f.file.size() + f.module.size());
  const std::string_view what(c.what), thread(c.thread_name);
  text.clear();
  text.append(what);
  text.append(thread);
  const std::size_t json_at = text.size();
  text.resize(json_at + bound);
  json_cursor j(text.data() + json_at);
  j.ch('[');
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const threads::frame& f = frames[i];
    if (i != 0) j.ch(',');
    char hex[24];
    j.lit("{\"addr\":");
    j.quoted(std::string_view(hex, fmt::format_to_n(hex, sizeof hex, "{:#x}", f.address).size));
    if (!f.function.empty()) {
      j.lit(",\"func\":");
      j.quoted(f.function);
    }
    if (!f.file.empty()) {
      j.lit(",\"file\":");
      j.quoted(f.file);
      j.lit(",\"line\":");
      j.integer(f.line);
    }
    if (f.inlined) j.lit(",\"inlined\":true");
    if (!f.module.empty()) {
      j.lit(",\"module\":");
      j.quoted(f.module);
    }
    if (f.file.empty()) {  // from the function's start, or from the module's when no symbol covers it
      j.lit(",\"offset\":");
      j.quoted(std::string_view(hex, fmt::format_to_n(hex, sizeof hex, "{:#x}", f.offset).size));
    }
    j.ch('}');
  }
  j.ch(']');
  text.resize(static_cast<std::size_t>(j.end() - text.data()));
  const std::string_view all(text.data(), text.size());
  fields.clear();
  field_value v;
  v.s = all.substr(0, what.size());
  fields.push_back({"crash", v});
  v.s = all.substr(what.size(), thread.size());
  fields.push_back({"thread", v});
  v.type = field_value::kind::json;
  v.s = all.substr(json_at);
  fields.push_back({"frames", v});
  return true;
}

}  // namespace crash_report
}  // namespace detail
}  // namespace v0
}  // namespace gidlog
