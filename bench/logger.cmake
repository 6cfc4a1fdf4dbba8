# The latency-percentile harness and the throughput run, both side by side with spdlog async
# (Debian libspdlog-dev). Short runs of both are ctest smoke tests (label bench).
find_package(spdlog CONFIG REQUIRED)
foreach(name latency throughput)
  add_executable(${name} ${CMAKE_CURRENT_SOURCE_DIR}/${name}.cpp)
  target_link_libraries(${name} PRIVATE gidlog::gidlog spdlog::spdlog)
  gidlog_set_warnings(${name})
endforeach()
add_test(NAME bench_smoke_latency COMMAND latency --records 2000 --pause-ns 500)
add_test(NAME bench_smoke_throughput COMMAND throughput --records 20000 --runs 1)
set_tests_properties(bench_smoke_latency bench_smoke_throughput PROPERTIES LABELS bench TIMEOUT 300)
