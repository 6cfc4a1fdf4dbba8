// symbolize(): libdw's Dwfl over this process's modules (rebuilt when an address falls outside
// every known module, e.g. after dlopen), or dladdr().
#include "introspect/symbolizer.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#ifdef GIDLOG_HAS_LIBDW
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#endif

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

std::string demangled(const char* name) {
  if (name == nullptr) return {};
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (d == nullptr) return name;
  std::string s(d);
  std::free(d);
  return s;
}

#ifdef GIDLOG_HAS_LIBDW

// A function inlined at an address, innermost first, and where its caller called it.
struct inline_call {
  std::string function;
  std::string call_file;
  std::uint32_t call_line = 0;
};

// The name of an inlined function: its linkage name demangled when the compiler recorded one,
// else its name qualified by the namespaces and classes around its declaration.
std::string die_function_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  for (int name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    if (Dwarf_Attribute* a = dwarf_attr_integrate(die, name, &attr)) {
      if (const char* mangled = dwarf_formstring(a)) return demangled(mangled);
    }
  }
  Dwarf_Die decl = *die;
  Dwarf_Die next;
  for (int hops = 0; hops < 8; ++hops) {
    Dwarf_Attribute* ref = dwarf_attr(&decl, DW_AT_abstract_origin, &attr);
    if (ref == nullptr) ref = dwarf_attr(&decl, DW_AT_specification, &attr);
    if (ref == nullptr || dwarf_formref_die(ref, &next) == nullptr) break;
    decl = next;
  }
  const char* plain = dwarf_diename(&decl);
  std::string name = plain != nullptr ? plain : "";
  Dwarf_Die* scopes = nullptr;
  const int n = dwarf_getscopes_die(&decl, &scopes);
  for (int i = 1; i < n; ++i) {
    const int tag = dwarf_tag(&scopes[i]);
    if (tag != DW_TAG_namespace && tag != DW_TAG_class_type && tag != DW_TAG_structure_type &&
        tag != DW_TAG_union_type)
      break;
    const char* outer = dwarf_diename(&scopes[i]);
    name.insert(0, std::string(outer != nullptr ? outer : "(anonymous namespace)") + "::");
  }
  std::free(scopes);
  return name;
}

// The chain of inlined calls covering `lookup` (module-relative address `rel`).
std::vector<inline_call> inline_chain(Dwfl_Module* m, Dwarf_Addr lookup) {
  std::vector<inline_call> out;
  Dwarf_Addr bias = 0;
  Dwarf_Die* cu = dwfl_module_addrdie(m, lookup, &bias);
  if (cu == nullptr) return out;
  // dwarf_getscopes() finds the innermost scope at the address, but past an inlined call it
  // continues with the scopes of the inlined function's own definition; the concrete chain of
  // callers comes from dwarf_getscopes_die() on that innermost scope (as eu-addr2line -i does).
  Dwarf_Die* scopes = nullptr;
  if (dwarf_getscopes(cu, lookup - bias, &scopes) <= 0) {
    std::free(scopes);
    return out;
  }
  Dwarf_Die innermost = scopes[0];
  std::free(scopes);
  scopes = nullptr;
  const int n = dwarf_getscopes_die(&innermost, &scopes);
  Dwarf_Files* files = nullptr;
  std::size_t nfiles = 0;
  if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0) files = nullptr;
  for (int i = 0; i < n; ++i) {
    const int tag = dwarf_tag(&scopes[i]);
    if (tag == DW_TAG_subprogram) break;
    if (tag != DW_TAG_inlined_subroutine) continue;
    inline_call c;
    c.function = die_function_name(&scopes[i]);
    Dwarf_Attribute attr;
    Dwarf_Word file = 0, line = 0;
    if (files != nullptr && dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &file) == 0 && file < nfiles) {
      if (const char* f = dwarf_filesrc(files, file, nullptr, nullptr)) c.call_file = f;
    }
    if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &line) == 0) c.call_line = static_cast<std::uint32_t>(line);
    out.push_back(std::move(c));
  }
  std::free(scopes);
  return out;
}

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
      f.function = demangled(fn);
      f.offset = off;
    }
    if (Dwfl_Line* line = dwfl_module_getsrc(m, lookup)) {
      int ln = 0;
      if (const char* src = dwfl_lineinfo(line, nullptr, &ln, nullptr, nullptr, nullptr); src != nullptr && ln > 0) {
        f.file = src;
        f.line = static_cast<std::uint32_t>(ln);
      }
    }
    std::vector<threads::frame> out;
    for (inline_call& c : inline_chain(m, lookup)) {
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
      f.function = demangled(info.dli_sname);
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

std::vector<threads::frame> symbolize(const std::vector<std::uintptr_t>& frames) {
  std::vector<threads::frame> out;
  out.reserve(frames.size());
  symbol_cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  if (c.frames.size() > 100'000) {
    c.frames.clear();
    c.modules.reset();
  }
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::uintptr_t lookup = i == 0 ? frames[i] : frames[i] - 1;
    auto it = c.frames.find(lookup);
    if (it == c.frames.end()) it = c.frames.emplace(lookup, c.modules.resolve(frames[i], lookup)).first;
    for (const threads::frame& f : it->second) {
      out.push_back(f);
      out.back().address = frames[i];
    }
  }
  return out;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
