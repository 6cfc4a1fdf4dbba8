# What a service pays for logging in total (issue 19), not per call: bench/footprint (memory per
# thread that logged once, the idle backend's wake-ups and CPU, time to file after idle) and
# bench/http_service (a cpp-httplib server logging one record per request under wrk, beside
# spdlog and no logging). Short runs of both are ctest smoke tests (label bench).
add_executable(footprint ${CMAKE_CURRENT_SOURCE_DIR}/footprint.cpp)
target_link_libraries(footprint PRIVATE gidlog::gidlog)
# proc_self.h: /proc/self readers shared with the footprint tests (header-only, no Catch).
target_include_directories(footprint PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
gidlog_set_warnings(footprint)
gidlog_line_tables_only(footprint)
add_test(NAME bench_smoke_footprint
         COMMAND footprint --threads 20 --reps 1 --idle-window-s 0.3 --idle-s 0.2 --tries 1)
set_tests_properties(bench_smoke_footprint PROPERTIES LABELS bench TIMEOUT 120)

# http_service needs cpp-httplib and spdlog. The debug server's build already found cpp-httplib
# (target gidlog_dep_httplib); with GIDLOG_DEBUG_SERVER=OFF, look for it here the same way.
find_package(spdlog CONFIG QUIET)
function(_gidlog_bench_find_httplib)
  find_path(GIDLOG_HTTPLIB_INCLUDE_DIR httplib.h)
  find_library(GIDLOG_HTTPLIB_LIBRARY cpp-httplib)
  if(GIDLOG_HTTPLIB_INCLUDE_DIR AND GIDLOG_HTTPLIB_LIBRARY)
    set(GIDLOG_DEBUG_SERVER ON)  # local to this function: only the httplib part of the file runs
    set(GIDLOG_LIBDW OFF)
    include(${PROJECT_SOURCE_DIR}/cmake/gidlog_introspect.cmake)
  endif()
endfunction()
if(NOT TARGET gidlog_dep_httplib)
  _gidlog_bench_find_httplib()
endif()
if(NOT TARGET gidlog_dep_httplib OR NOT spdlog_FOUND)
  message(STATUS "gidlog: cpp-httplib or spdlog not found, bench/http_service skipped "
                 "(apt-get install libcpp-httplib-dev libspdlog-dev; wrk for the load)")
  return()
endif()
add_executable(http_service ${CMAKE_CURRENT_SOURCE_DIR}/http_service.cpp)
target_link_libraries(http_service PRIVATE gidlog::gidlog spdlog::spdlog gidlog_dep_httplib Threads::Threads)
gidlog_set_warnings(http_service)
gidlog_line_tables_only(http_service)
# wrk when installed, else the built-in client; and the built-in client alone, so it never rots.
add_test(NAME bench_smoke_http_service COMMAND http_service --reps 1 --seconds 1 --connections 4)
add_test(NAME bench_smoke_http_service_builtin
         COMMAND http_service --reps 1 --seconds 1 --connections 2 --client builtin)
set_tests_properties(bench_smoke_http_service bench_smoke_http_service_builtin PROPERTIES LABELS bench TIMEOUT 120)
