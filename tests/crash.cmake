# tests/integration/crash.cpp and lifecycle.cpp (included from tests/CMakeLists.txt): each test
# runs its scenario in a child process, this same executable started again (see
# tests/support/child_process.h).
foreach(t it_crash it_lifecycle)
  if(TARGET ${t})
    # The C runtime calls child_process.h's __wrap_main, which runs a child scenario or Catch.
    target_compile_definitions(${t} PRIVATE GIDLOG_TEST_CHILD_MAIN=1)
    target_link_options(${t} PRIVATE -Wl,--wrap=main)
    # The crash handler names frames with dladdr(): the crashing functions must be exported.
    set_property(TARGET ${t} PROPERTY ENABLE_EXPORTS ON)
  endif()
endforeach()
