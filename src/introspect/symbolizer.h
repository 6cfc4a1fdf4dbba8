#pragma once
// Addresses to function names and source lines, on the thread that asked for a profile. With
// elfutils libdw (GIDLOG_HAS_LIBDW): demangled names from the symbol tables, file:line from the
// debug information (or the separate debug files under /usr/lib/debug). Without it: dladdr(), so
// exported names only and no lines. Results are cached; one lookup at a time process-wide.
#include <cstdint>
#include <string>
#include <vector>

#include <gidlog/introspect/threads.h>

namespace gidlog {
inline namespace v0 {
namespace detail {

// Symbolizes a stack captured by capture_stacks(): frames[0] is an exact program counter, the
// others return addresses (looked up one byte back, inside the call instruction). A function
// inlined at an address gets a frame of its own (inlined = true) before the one it is inlined in,
// as addr2line -i shows them.
std::vector<threads::frame> symbolize(const std::vector<std::uintptr_t>& frames);

// A C++ symbol name demangled ("_ZN3foo3barEv" -> "foo::bar()"); other names as they are.
std::string demangle(const char* name);

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
