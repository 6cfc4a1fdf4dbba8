# Debug information for test and benchmark code in optimised builds (RelWithDebInfo: the release,
# tsan and aarch64 presets): line tables only (g++ -g1, clang -gline-tables-only), so backtraces
# and sanitizer reports still name file and line. Full -g roughly doubled the compile time of a
# test file at -O2 (13.8 s against 8.5 s for tests/integration/structured.cpp with the aarch64
# cross compiler, 10.1 against 6.9 s under clang's ThreadSanitizer), and the tests are most of
# what `./dev.sh test` compiles four times. The library keeps the build type's -g. The tests that
# read their own frames back from DWARF (the introspect tests) call gidlog_debug_info() instead.
function(gidlog_line_tables_only target)
  if(NOT CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo")
    return()
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    target_compile_options(${target} PRIVATE -gline-tables-only)
  elseif(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -g1)
  endif()
endfunction()

# Full debug information (-g) for a test that reads its own frames back from DWARF, whatever the
# build type: the introspect tests expect `file:line` and the inlined frames (gate::wait inside
# block_in_cond_wait) of their own code. A packager's plain `-DCMAKE_BUILD_TYPE=Release` or
# MinSizeRel build has no -g, and there two introspect_threads tests failed. Added after the build
# type's flags, so it also wins over -g1 or -gline-tables-only in CMAKE_CXX_FLAGS; redundant, and
# harmless, in Debug and RelWithDebInfo.
function(gidlog_debug_info target)
  target_compile_options(${target} PRIVATE -g)
endfunction()
