#pragma once
// The DWARF side of symbolization (libdw builds only): for an address in a module, its source
// line and the chain of functions inlined there, with the line each was called from.
//
// libdw can answer both by itself (dwfl_module_addrdie, dwarf_getscopes), but it walks the whole
// compile unit for every address and finds units only through .debug_aranges, which clang does
// not emit. Here each module gets a table of its units' address ranges, and each unit one walk
// that records the code ranges of its functions and inlined calls and the enclosing namespace or
// class of every function declaration; a lookup is then a search in small sorted tables.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <elfutils/libdwfl.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

// One function inlined at an address, and where its caller called it.
struct inline_call {
  std::string function;
  std::string call_file;
  std::uint32_t call_line = 0;
};

struct source_point {
  std::string file;       // "" when the address has no line information
  std::uint32_t line = 0;
  std::vector<inline_call> inlined;  // innermost first; empty when nothing is inlined there
};

class dwarf_units {
 public:
  dwarf_units();
  ~dwarf_units();
  dwarf_units(const dwarf_units&) = delete;
  dwarf_units& operator=(const dwarf_units&) = delete;

  // `lookup` is an absolute address inside module m.
  source_point at(Dwfl_Module* m, Dwarf_Addr lookup);
  // Forgets every table (the modules they describe are being unloaded).
  void clear();

 private:
  struct unit;
  struct module;
  module& module_of(Dwfl_Module* m);
  std::map<Dwfl_Module*, std::unique_ptr<module>> modules_;
};

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
