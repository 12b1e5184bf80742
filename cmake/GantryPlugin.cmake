# gantry_add_plugin(<target> <source>...)
#
# Builds one gantry plugin: a MODULE library linked privately against the SDK, with hidden
# visibility (only the Boost.DLL entry is exported), built for the ABI version of the SDK headers
# it compiles against. In gantry's tree it lands in the folder gantry searches first; out of tree
# (after find_package(gantry CONFIG)) it lands in the author's build folder, which gantry reads
# with --plugin-path or GANTRY_PLUGIN_PATH.
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
    # In gantry's own tree: beside the program's other plugins, finding the SDK two folders up
    # once installed (<prefix>/lib/gantry/plugins -> <prefix>/lib).
    set_target_properties(${target} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY ${GANTRY_PLUGIN_OUTPUT_DIR}
      INSTALL_RPATH "$ORIGIN/../..")
  endif()
endfunction()
