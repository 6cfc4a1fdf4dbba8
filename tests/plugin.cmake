# tests/integration/hidden_plugin.cpp: the plugin it dlopen()s, compiled with hidden visibility
# (included from tests/CMakeLists.txt). The plugin links no copy of gidlog and takes the logger's
# symbols from the test executable, which therefore exports them.
if(TARGET it_hidden_plugin)
  add_library(gidlog_test_hidden_plugin MODULE ${CMAKE_CURRENT_SOURCE_DIR}/plugin/hidden_plugin_lib.cpp)
  target_compile_definitions(gidlog_test_hidden_plugin PRIVATE $<TARGET_PROPERTY:gidlog,INTERFACE_COMPILE_DEFINITIONS>)
  target_include_directories(gidlog_test_hidden_plugin PRIVATE $<TARGET_PROPERTY:gidlog,INTERFACE_INCLUDE_DIRECTORIES>)
  target_compile_features(gidlog_test_hidden_plugin PRIVATE cxx_std_20)
  target_link_libraries(gidlog_test_hidden_plugin PRIVATE fmt::fmt Threads::Threads)
  set_target_properties(gidlog_test_hidden_plugin PROPERTIES CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  gidlog_set_warnings(gidlog_test_hidden_plugin)

  set_property(TARGET it_hidden_plugin PROPERTY ENABLE_EXPORTS ON)
  add_dependencies(it_hidden_plugin gidlog_test_hidden_plugin)
  target_compile_definitions(it_hidden_plugin PRIVATE
    GIDLOG_TEST_HIDDEN_PLUGIN_PATH="$<TARGET_FILE:gidlog_test_hidden_plugin>")
  target_link_libraries(it_hidden_plugin PRIVATE ${CMAKE_DL_LIBS})
endif()
