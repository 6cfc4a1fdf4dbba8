# tests/integration/crash.cpp, crash_symbols.cpp, stop_signals.cpp, lifecycle.cpp and
# sinks_rotation_compress.cpp (included from tests/CMakeLists.txt): each test
# runs its scenario in a child process, this same executable started again (see
# tests/support/child_process.h).
foreach(t it_crash it_lifecycle it_crash_symbols it_stop_signals it_sinks_rotation_compress)
  if(TARGET ${t})
    # The C runtime calls child_process.h's __wrap_main, which runs a child scenario or Catch.
    target_compile_definitions(${t} PRIVATE GIDLOG_TEST_CHILD_MAIN=1)
    target_link_options(${t} PRIVATE -Wl,--wrap=main)
  endif()
endforeach()
# These name their crashing functions whether the crash record is symbolized with libdw or with
# dladdr() alone (GIDLOG_LIBDW=OFF), which sees exported functions only.
foreach(t it_crash it_lifecycle)
  if(TARGET ${t})
    set_property(TARGET ${t} PROPERTY ENABLE_EXPORTS ON)
  endif()
endforeach()
# it_crash_symbols checks the opposite: an executable that exports nothing still gets function,
# file:line and inlined frames (libdw reads them from its debug information: tests/CMakeLists.txt
# gives it full -g in every build type, as the introspect tests).
if(TARGET it_crash_symbols)
  if(NOT GIDLOG_LIBDW)
    target_compile_definitions(it_crash_symbols PRIVATE GIDLOG_TEST_NO_LIBDW=1)
  endif()
endif()
# sinks_rotation_compress reads the .gz files it checks with zlib's inflate, which checks each
# stream to its trailer. It needs gidlog built with GIDLOG_ZLIB (the default).
if(TARGET it_sinks_rotation_compress)
  if(TARGET gidlog_dep_zlib)
    target_link_libraries(it_sinks_rotation_compress PRIVATE gidlog_dep_zlib)
  else()
    message(FATAL_ERROR "gidlog: the tests need GIDLOG_ZLIB=ON (sinks_rotation_compress); configure with "
      "-DGIDLOG_ZLIB=ON or -DGIDLOG_BUILD_TESTS=OFF")
  endif()
endif()
