# The latency-percentile harness and the throughput run, both side by side with spdlog async
# (Debian libspdlog-dev). Short runs of both are ctest smoke tests (label bench).
find_package(spdlog CONFIG QUIET)
if(NOT spdlog_FOUND)
  message(STATUS "gidlog: spdlog not found, bench/latency and bench/throughput skipped (apt-get install libspdlog-dev)")
  return()
endif()
foreach(name latency throughput)
  add_executable(${name} ${CMAKE_CURRENT_SOURCE_DIR}/${name}.cpp)
  target_link_libraries(${name} PRIVATE gidlog::gidlog spdlog::spdlog)
  gidlog_set_warnings(${name})
  gidlog_line_tables_only(${name})
endforeach()
# throughput --sink journald starts a private systemd-journald with the tests' helper.
target_include_directories(throughput PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
add_test(NAME bench_smoke_latency COMMAND latency --records 2000 --pause-ns 500)
add_test(NAME bench_smoke_throughput COMMAND throughput --records 20000 --runs 1)
set_tests_properties(bench_smoke_latency bench_smoke_throughput PROPERTIES LABELS bench TIMEOUT 300)
# throughput's rotating-gz row counts the lines of the .gz files through zlib.
if(TARGET throughput AND TARGET gidlog_dep_zlib)
  target_link_libraries(throughput PRIVATE gidlog_dep_zlib)
  target_compile_definitions(throughput PRIVATE GIDLOG_BENCH_ZLIB=1)
endif()
