// dwarf_units: per-module unit ranges, per-unit function ranges and declaration parents.
#include "introspect/dwarf_units.h"

#include <dwarf.h>
#include <elfutils/libdw.h>

#include <algorithm>
#include <iterator>
#include <unordered_map>

#include "introspect/symbolizer.h"

namespace gidlog {
inline namespace v0 {
namespace detail {

namespace {

struct range_entry {
  Dwarf_Addr low, high;  // [low, high), module-relative
  Dwarf_Off die;
  std::uint32_t depth;   // nesting depth in the unit (inlined calls deeper than their callers)
  bool inlined;          // an inlined call, else a function
};

bool is_container(int tag) {
  return tag == DW_TAG_namespace || tag == DW_TAG_class_type || tag == DW_TAG_structure_type ||
         tag == DW_TAG_union_type;
}

template <class F>
void for_each_range(Dwarf_Die* die, F f) {
  Dwarf_Addr base = 0, low = 0, high = 0;
  for (ptrdiff_t r = 0; (r = dwarf_ranges(die, r, &base, &low, &high)) > 0;) f(low, high);
}

}  // namespace

struct dwarf_units::unit {
  Dwarf_Die cu;
  std::vector<range_entry> code;                       // functions and inlined calls
  std::unordered_map<Dwarf_Off, Dwarf_Off> container;  // function or container -> its namespace/class (0: none)

  explicit unit(Dwarf_Die die) : cu(die) { walk(&cu, 0, 0); }

  void walk(Dwarf_Die* parent, Dwarf_Off outer, std::uint32_t depth) {
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0) return;
    do {
      const int tag = dwarf_tag(&child);
      const Dwarf_Off off = dwarf_dieoffset(&child);
      const bool code_tag = tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine;
      if (is_container(tag) || tag == DW_TAG_subprogram) container[off] = outer;
      if (code_tag) {
        for_each_range(&child, [&](Dwarf_Addr low, Dwarf_Addr high) {
          code.push_back({low, high, off, depth, tag == DW_TAG_inlined_subroutine});
        });
      }
      if (is_container(tag) || code_tag || tag == DW_TAG_lexical_block)
        walk(&child, is_container(tag) || tag == DW_TAG_subprogram ? off : outer, depth + 1);
    } while (dwarf_siblingof(&child, &child) == 0);
  }

  // The declaration a function or inlined call refers to, through abstract_origin/specification.
  static Dwarf_Die declaration(Dwarf_Die die) {
    Dwarf_Attribute attr;
    Dwarf_Die next;
    for (int hops = 0; hops < 8; ++hops) {
      Dwarf_Attribute* ref = dwarf_attr(&die, DW_AT_abstract_origin, &attr);
      if (ref == nullptr) ref = dwarf_attr(&die, DW_AT_specification, &attr);
      if (ref == nullptr || dwarf_formref_die(ref, &next) == nullptr) break;
      die = next;
    }
    return die;
  }

  // An inlined function's name: its linkage name demangled when there is one, else its name
  // qualified by what encloses its declaration: namespaces, classes, and for a lambda's
  // operator() the function the lambda is in.
  std::string function_name(Dwarf_Die* die) {
    Dwarf_Attribute attr;
    for (int name : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
      if (Dwarf_Attribute* a = dwarf_attr_integrate(die, name, &attr)) {
        if (const char* mangled = dwarf_formstring(a)) return demangle(mangled);
      }
    }
    Dwarf_Die d = declaration(*die);
    std::string name = die_name(&d);
    Dwarf* dw = dwarf_cu_getdwarf(d.cu);
    for (int hops = 0; hops < 16 && dw != nullptr; ++hops) {
      const auto it = container.find(dwarf_dieoffset(&d));
      if (it == container.end() || it->second == 0 || dwarf_offdie(dw, it->second, &d) == nullptr) break;
      d = declaration(d);
      name.insert(0, die_name(&d) + "::");
    }
    return name;
  }

  static std::string die_name(Dwarf_Die* d) {
    Dwarf_Attribute attr;
    if (Dwarf_Attribute* a = dwarf_attr_integrate(d, DW_AT_name, &attr)) {
      if (const char* n = dwarf_formstring(a)) return n;
    }
    return dwarf_tag(d) == DW_TAG_namespace ? "(anonymous namespace)" : "{lambda}";
  }

  std::vector<inline_call> inlined_at(Dwarf_Addr rel) {
    std::vector<const range_entry*> hits;
    for (const range_entry& e : code) {
      if (rel >= e.low && rel < e.high) hits.push_back(&e);
    }
    std::sort(hits.begin(), hits.end(), [](const range_entry* a, const range_entry* b) { return a->depth > b->depth; });
    Dwarf_Files* files = nullptr;
    std::size_t nfiles = 0;
    if (dwarf_getsrcfiles(&cu, &files, &nfiles) != 0) files = nullptr;
    Dwarf* dw = dwarf_cu_getdwarf(cu.cu);
    std::vector<inline_call> out;
    for (const range_entry* e : hits) {
      if (!e->inlined) break;  // the function it is all inlined in
      Dwarf_Die die;
      if (dw == nullptr || dwarf_offdie(dw, e->die, &die) == nullptr) break;
      inline_call c;
      c.function = function_name(&die);
      Dwarf_Attribute attr;
      Dwarf_Word file = 0, line = 0;
      if (files != nullptr && dwarf_formudata(dwarf_attr(&die, DW_AT_call_file, &attr), &file) == 0 && file < nfiles) {
        if (const char* f = dwarf_filesrc(files, file, nullptr, nullptr)) c.call_file = f;
      }
      if (dwarf_formudata(dwarf_attr(&die, DW_AT_call_line, &attr), &line) == 0) c.call_line = static_cast<std::uint32_t>(line);
      out.push_back(std::move(c));
    }
    return out;
  }
};

struct dwarf_units::module {
  Dwarf* dw = nullptr;
  Dwarf_Addr bias = 0;
  std::vector<std::pair<Dwarf_Addr, Dwarf_Addr>> spans;  // [low, high) of each unit, sorted
  std::vector<Dwarf_Off> span_unit;                       // the unit DIE of each span
  std::map<Dwarf_Off, std::unique_ptr<unit>> units;       // walked so far

  explicit module(Dwfl_Module* m) {
    dw = dwfl_module_getdwarf(m, &bias);
    if (dw == nullptr) return;
    std::vector<std::pair<std::pair<Dwarf_Addr, Dwarf_Addr>, Dwarf_Off>> all;
    Dwarf_Off off = 0, next = 0;
    std::size_t header = 0;
    while (dwarf_next_unit(dw, off, &next, &header, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr) == 0) {
      Dwarf_Die cu;
      if (dwarf_offdie(dw, off + header, &cu) != nullptr) {
        for_each_range(&cu, [&](Dwarf_Addr low, Dwarf_Addr high) { all.push_back({{low, high}, off + header}); });
      }
      off = next;
    }
    std::sort(all.begin(), all.end());
    for (const auto& [span, die] : all) {
      spans.push_back(span);
      span_unit.push_back(die);
    }
  }

  unit* unit_at(Dwarf_Addr rel) {
    const auto after = std::upper_bound(spans.begin(), spans.end(), rel,
                                        [](Dwarf_Addr a, const std::pair<Dwarf_Addr, Dwarf_Addr>& s) { return a < s.first; });
    if (after == spans.begin() || rel >= std::prev(after)->second) return nullptr;
    const Dwarf_Off die = span_unit[static_cast<std::size_t>(std::prev(after) - spans.begin())];
    auto it = units.find(die);
    if (it == units.end()) {
      Dwarf_Die cu;
      if (dwarf_offdie(dw, die, &cu) == nullptr) return nullptr;
      it = units.emplace(die, std::make_unique<unit>(cu)).first;
    }
    return it->second.get();
  }
};

dwarf_units::dwarf_units() = default;
dwarf_units::~dwarf_units() = default;

void dwarf_units::clear() { modules_.clear(); }

dwarf_units::module& dwarf_units::module_of(Dwfl_Module* m) {
  auto it = modules_.find(m);
  if (it == modules_.end()) it = modules_.emplace(m, std::make_unique<module>(m)).first;
  return *it->second;
}

source_point dwarf_units::at(Dwfl_Module* m, Dwarf_Addr lookup) {
  source_point p;
  module& mod = module_of(m);
  if (mod.dw == nullptr) return p;
  const Dwarf_Addr rel = lookup - mod.bias;
  unit* u = mod.unit_at(rel);
  if (u == nullptr) return p;
  if (Dwarf_Line* line = dwarf_getsrc_die(&u->cu, rel)) {
    int ln = 0;
    const char* src = dwarf_linesrc(line, nullptr, nullptr);
    if (src != nullptr && dwarf_lineno(line, &ln) == 0 && ln > 0) {
      p.file = src;
      p.line = static_cast<std::uint32_t>(ln);
    }
  }
  p.inlined = u->inlined_at(rel);
  return p;
}

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
