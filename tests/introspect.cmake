# tests/integration/introspect_*.cpp (included from tests/CMakeLists.txt).
if(TARGET it_introspect_server AND GIDLOG_DEBUG_SERVER)
  # The HTTP tests are clients of the server: cpp-httplib's client, with the library's build flags.
  target_link_libraries(it_introspect_server PRIVATE gidlog_dep_httplib)
  target_compile_definitions(it_introspect_server PRIVATE GIDLOG_TEST_DEBUG_SERVER=1)
endif()
if(NOT GIDLOG_LIBDW)
  foreach(t it_introspect_threads it_introspect_sigquit)
    if(TARGET ${t})
      target_compile_definitions(${t} PRIVATE GIDLOG_TEST_NO_LIBDW=1)
    endif()
  endforeach()
endif()
