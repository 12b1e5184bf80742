# gantry_add_plugin(<target> <source>...)
#
# Builds one gantry plugin: a MODULE library linked privately against the SDK, with hidden
# visibility (only the Boost.DLL entry is exported) and written into the plugin folder that
# gantry searches first. Used by the built-in plugins and, through find_package(gantry), by
# out-of-tree plugin authors.
function(gantry_add_plugin target)
  if(NOT ARGN)
    message(FATAL_ERROR "gantry_add_plugin(${target}): no sources given")
  endif()
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE gantry::sdk fmt::fmt)
  if(TARGET gantry_warnings)
    target_link_libraries(${target} PRIVATE gantry_warnings)
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(DEFINED GANTRY_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${GANTRY_PLUGIN_OUTPUT_DIR})
  endif()
endfunction()
