#pragma once
// Addresses to function names and source lines, on the thread that asked for a profile. With
// elfutils libdw (GIDLOG_HAS_LIBDW): demangled names from the symbol tables, file:line from the
// debug information (or the separate debug files under /usr/lib/debug). Without it: dladdr(), so
// exported names only and no lines. Results are cached; one lookup at a time process-wide.
#include <chrono>
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

// For the crash record (src/lifecycle/crash.cpp), on the thread that writes it: as symbolize(), except
// that frames[0] is a return address too unless `first_exact`, and that it waits at most `wait`
// for another thread's lookup (the crashed thread may have died inside one, holding the lock),
// then returns an empty vector. May throw (std::bad_alloc).
std::vector<threads::frame> symbolize_within(const std::vector<std::uintptr_t>& frames, bool first_exact,
                                             std::chrono::milliseconds wait);

// A C++ symbol name demangled ("_ZN3foo3barEv" -> "foo::bar()"); other names as they are.
std::string demangle(const char* name);

}  // namespace detail
}  // namespace v0
}  // namespace gidlog
