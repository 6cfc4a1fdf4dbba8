// symbolize(): libdw's Dwfl over this process's modules (rebuilt when an address falls outside
// every known module, e.g. after dlopen) with dwarf_units for lines and inlined calls, or
// dladdr() without libdw.
#include "introspect/symbolizer.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#ifdef GIDLOG_HAS_LIBDW
#include <elfutils/libdwfl.h>

#include "introspect/dwarf_units.h"
#endif

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

#ifdef GIDLOG_HAS_LIBDW

class module_index {
 public:
  ~module_index() { reset(); }

  // The frames at `address` (looked up at `lookup`): the functions inlined there, innermost
  // first, then the function the symbol table names.
  std::vector<threads::frame> resolve(std::uintptr_t address, std::uintptr_t lookup) {
    threads::frame f;
    f.address = address;
    Dwfl_Module* m = module_of(lookup);
    if (m == nullptr) return {f};
    Dwarf_Addr start = 0;
    const char* mainfile = nullptr;
    const char* name = dwfl_module_info(m, nullptr, &start, nullptr, nullptr, nullptr, &mainfile, nullptr);
    f.module = mainfile != nullptr ? mainfile : name != nullptr ? name : "";
    f.offset = lookup - start;
    GElf_Off off = 0;
    GElf_Sym sym{};
    const char* fn = dwfl_module_addrinfo(m, lookup, &off, &sym, nullptr, nullptr, nullptr);
    // A stripped library's dynamic symbols do not cover its internal functions: the nearest one
    // before the address would be a wrong name. Trust a symbol only within its size.
    if (fn != nullptr && (sym.st_size == 0 || off < sym.st_size)) {
      f.function = demangle(fn);
      f.offset = off;
    }
    source_point p = units_.at(m, lookup);
    f.file = std::move(p.file);
    f.line = p.line;
    std::vector<threads::frame> out;
    for (inline_call& c : p.inlined) {
      threads::frame inner = f;
      inner.function = std::move(c.function);
      inner.inlined = true;
      out.push_back(std::move(inner));
      // The next frame out is at the call site of this one.
      f.file = std::move(c.call_file);
      f.line = c.call_line;
    }
    out.push_back(std::move(f));
    return out;
  }

  // Forgets every module: the next lookup reads /proc/self/maps again.
  void reset() {
    units_.clear();
    if (dwfl_ != nullptr) dwfl_end(dwfl_);
    dwfl_ = nullptr;
  }

 private:
  Dwfl_Module* module_of(std::uintptr_t lookup) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (dwfl_ == nullptr && !report()) return nullptr;
      if (Dwfl_Module* m = dwfl_addrmodule(dwfl_, lookup)) return m;
      if (attempt == 0) reset();  // loaded since the last report?
    }
    return nullptr;
  }

  bool report() {
    dwfl_ = dwfl_begin(&callbacks_);
    if (dwfl_ == nullptr) return false;
    dwfl_report_begin(dwfl_);
    const bool ok = dwfl_linux_proc_report(dwfl_, ::getpid()) == 0;
    dwfl_report_end(dwfl_, nullptr, nullptr);
    if (!ok) reset();
    return ok;
  }

  char* debuginfo_path_ = nullptr;
  Dwfl_Callbacks callbacks_{dwfl_linux_proc_find_elf, dwfl_standard_find_debuginfo, nullptr, &debuginfo_path_};
  Dwfl* dwfl_ = nullptr;
  dwarf_units units_;
};

#else  // dladdr(): exported symbols only

class module_index {
 public:
  std::vector<threads::frame> resolve(std::uintptr_t address, std::uintptr_t lookup) {
    threads::frame f;
    f.address = address;
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void*>(lookup), &info) == 0) return {f};
    f.module = info.dli_fname != nullptr ? info.dli_fname : "";
    f.offset = lookup - reinterpret_cast<std::uintptr_t>(info.dli_fbase);
    if (info.dli_sname != nullptr) {
      f.function = demangle(info.dli_sname);
      f.offset = lookup - reinterpret_cast<std::uintptr_t>(info.dli_saddr);
    }
    return {f};
  }
  void reset() {}
};

#endif

struct symbol_cache {
  std::mutex mu;
  module_index modules;
  std::unordered_map<std::uintptr_t, std::vector<threads::frame>> frames;  // by lookup address
};

symbol_cache& cache() {
  static symbol_cache* c = new symbol_cache;  // never destroyed: profiles may run at exit
  return *c;
}

}  // namespace

std::string demangle(const char* name) {
  if (name == nullptr) return {};
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (d == nullptr) return name;
  std::string s(d);
  std::free(d);
  return s;
}

namespace {

// symbolize() with the cache's lock held.
std::vector<threads::frame> symbolize_locked(symbol_cache& c, const std::vector<std::uintptr_t>& frames,
                                             bool first_exact) {
  std::vector<threads::frame> out;
  out.reserve(frames.size());
  if (c.frames.size() > 100'000) {
    c.frames.clear();
    c.modules.reset();
  }
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::uintptr_t lookup = i == 0 && first_exact ? frames[i] : frames[i] - 1;
    auto it = c.frames.find(lookup);
    if (it == c.frames.end()) it = c.frames.emplace(lookup, c.modules.resolve(frames[i], lookup)).first;
    for (const threads::frame& f : it->second) {
      out.push_back(f);
      out.back().address = frames[i];
    }
  }
  return out;
}

}  // namespace

std::vector<threads::frame> symbolize(const std::vector<std::uintptr_t>& frames) {
  symbol_cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return symbolize_locked(c, frames, true);
}

std::vector<threads::frame> symbolize_within(const std::vector<std::uintptr_t>& frames, bool first_exact,
                                             std::chrono::milliseconds wait) {
  symbol_cache& c = cache();
  std::unique_lock<std::mutex> lock(c.mu, std::defer_lock);
  const auto until = std::chrono::steady_clock::now() + wait;
  while (!lock.try_lock()) {
    if (std::chrono::steady_clock::now() >= until) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return symbolize_locked(c, frames, first_exact);
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
