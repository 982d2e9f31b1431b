# What the Java and C# modules (cmake/bnb8_java.cmake, cmake/bnb8_csharp.cmake) share.
include_guard(GLOBAL)

# bnb_binding_gate(<LANG> <toolchain condition...>): BNB_<LANG>_ENABLED from BNB_BUILD_<LANG> (AUTO, ON,
# OFF) and the condition, an if() expression. The caller returns when it is OFF.
macro(bnb_binding_gate lang)
  if(${ARGN})
    set(_bnb_toolchain_found ON)
  else()
    set(_bnb_toolchain_found OFF)
  endif()
  bnb_binding_enabled(${lang} _bnb_toolchain_found BNB_${lang}_ENABLED)
endmacro()

find_program(BNB_DEBIAN_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)

# bnb_add_quickstart_test(<name> <language> <command...>): runs a README quickstart in a fresh scratch
# folder, then opens the checkpoint it saved with the reader of the C quickstart's, which uses only the
# Python standard library and the safetensors specification (one parameter of 2^20 elements, 8-bit
# AdamW states, 10 steps). Labelled example and <language>.
function(bnb_add_quickstart_test name language)
  set(check true)
  if(BNB_DEBIAN_PYTHON)
    set(check "'${BNB_DEBIAN_PYTHON}' '${PROJECT_SOURCE_DIR}/tests/python/read_checkpoint.py' optimizer.safetensors 1048576 10")
  endif()
  add_test(NAME ${name}
           COMMAND sh -c "rm -rf \"$0\" && mkdir -p \"$0\" && cd \"$0\" && \"$@\" && ${check}"
                   ${CMAKE_CURRENT_BINARY_DIR}/${name}_run ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS "example;${language}")
endfunction()

# bnb_swig_fresh_output(<module target> <generated dir> <swig inputs...>): empties the folder SWIG writes
# a module's classes into just before SWIG reruns, so that a class an older interface generated (and the
# jar or assembly, which take every file there, would still compile) cannot outlive its declaration.
# <swig inputs> must be what reruns SWIG: the .i files (UseSWIG tracks nothing else).
function(bnb_swig_fresh_output module dir)
  set(stamp ${CMAKE_CURRENT_BINARY_DIR}/${module}_generated.stamp)
  add_custom_command(OUTPUT ${stamp}
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${dir}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
    DEPENDS ${ARGN}
    COMMENT "Emptying ${module}'s generated sources before SWIG runs"
    VERBATIM)
  add_custom_target(${module}_fresh_output DEPENDS ${stamp})
  add_dependencies(${module}_swig_compilation ${module}_fresh_output)
endfunction()
