# The Java binding: SWIG module Bnb8 (package org.bnb8) from bindings/bnb8.i, built into
# lib/libbnb8_java.so (beside libbnb8.so, found through $ORIGIN) and lib/bnb8.jar (the generated sources
# plus bindings/java/org/bnb8/*.java, compiled with Debian's JDK; no Maven, nothing downloaded). Tests
# (junit4) and the quickstart example run from the build tree.
find_package(Java QUIET COMPONENTS Development)
find_package(JNI QUIET)
include(${CMAKE_CURRENT_LIST_DIR}/bnb8_binding_support.cmake)
# Only the JNI headers are needed (the module never links libjvm), so AWT or JVM libraries missing from a
# headless JDK must not disable the binding.
bnb_binding_gate(JAVA Java_Development_FOUND AND JAVA_INCLUDE_PATH AND JAVA_INCLUDE_PATH2)
if(NOT BNB_JAVA_ENABLED)
  return()
endif()

set(_bnb_java_dir ${CMAKE_CURRENT_BINARY_DIR}/java)
set(_bnb_java_generated ${_bnb_java_dir}/generated/org/bnb8)
set(BNB_JAVA_JAR ${CMAKE_BINARY_DIR}/lib/bnb8.jar)
set(_bnb_java_sources ${PROJECT_SOURCE_DIR}/bindings/java/org/bnb8/Bnb8Exception.java
                      ${PROJECT_SOURCE_DIR}/bindings/java/org/bnb8/DirectBuffers.java
                      ${PROJECT_SOURCE_DIR}/bindings/java/org/bnb8/NativeLibrary.java)

set_source_files_properties(${PROJECT_SOURCE_DIR}/bindings/bnb8.i PROPERTIES CPLUSPLUS ON)
swig_add_library(bnb8_java TYPE MODULE LANGUAGE java
                 OUTPUT_DIR ${_bnb_java_generated} OUTFILE_DIR ${_bnb_java_dir}/wrap
                 SOURCES ${PROJECT_SOURCE_DIR}/bindings/bnb8.i)
set_property(TARGET bnb8_java PROPERTY SWIG_USE_TARGET_INCLUDE_DIRECTORIES ON)
set_property(TARGET bnb8_java PROPERTY SWIG_COMPILE_OPTIONS -package org.bnb8 -doxygen)
set_property(TARGET bnb8_java APPEND PROPERTY SWIG_DEPENDS ${PROJECT_SOURCE_DIR}/bindings/java/bnb8_java.i)
bnb_swig_fresh_output(bnb8_java ${_bnb_java_generated} ${PROJECT_SOURCE_DIR}/bindings/bnb8.i
                      ${PROJECT_SOURCE_DIR}/bindings/java/bnb8_java.i)
target_include_directories(bnb8_java PRIVATE ${JAVA_INCLUDE_PATH} ${JAVA_INCLUDE_PATH2})
target_link_libraries(bnb8_java PRIVATE bnb8)
set_target_properties(bnb8_java PROPERTIES
  OUTPUT_NAME bnb8_java PREFIX lib LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib
  BUILD_RPATH "$ORIGIN" INSTALL_RPATH "$ORIGIN" BUILD_RPATH_USE_ORIGIN ON)  # no absolute path into the build tree

# The jar: the generated file set depends on bnb8.i, so javac takes whatever SWIG wrote (a shell glob at
# build time), after the module target has run SWIG. It carries the native libraries under
# org/bnb8/native/<os>-<arch>/ with a list "files" in load order (dependencies first), which
# NativeLibrary.java extracts and loads: the jar alone is enough, no -Djava.library.path.
string(TOLOWER "${CMAKE_SYSTEM_NAME}-${CMAKE_SYSTEM_PROCESSOR}" _bnb_java_platform)
string(REPLACE "amd64" "x86_64" _bnb_java_platform "${_bnb_java_platform}")
set(_bnb_java_native ${_bnb_java_dir}/classes/org/bnb8/native/${_bnb_java_platform})
set(_bnb_java_soname libbnb8.so.${PROJECT_VERSION_MAJOR})
file(WRITE ${_bnb_java_dir}/native_files "${_bnb_java_soname}\nlibbnb8_java.so\n")
set(_bnb_javac_flags -encoding UTF-8 -Xlint:all,-serial)
if(BNB_WERROR)
  list(APPEND _bnb_javac_flags -Werror)
endif()
add_custom_command(OUTPUT ${BNB_JAVA_JAR}
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${_bnb_java_dir}/classes
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_bnb_java_dir}/classes
  COMMAND sh -c "exec \"$0\" \"$@\" '${_bnb_java_generated}'/*.java" ${Java_JAVAC_EXECUTABLE} ${_bnb_javac_flags}
          -d ${_bnb_java_dir}/classes ${_bnb_java_sources}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_bnb_java_native}
  COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:bnb8> ${_bnb_java_native}/${_bnb_java_soname}
  COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:bnb8_java> ${_bnb_java_native}/libbnb8_java.so
  COMMAND ${CMAKE_COMMAND} -E copy ${_bnb_java_dir}/native_files ${_bnb_java_native}/files
  COMMAND ${Java_JAR_EXECUTABLE} cf ${BNB_JAVA_JAR} -C ${_bnb_java_dir}/classes .
  DEPENDS bnb8 bnb8_java ${_bnb_java_sources}
  COMMENT "Building the Java binding's jar lib/bnb8.jar"
  VERBATIM)
add_custom_target(bnb8_jar ALL DEPENDS ${BNB_JAVA_JAR})

# Maven coordinates org.bnb8:bnb8:<version>. Installed as <datadir>/java/bnb8.jar (Debian's place for
# jars) and into a Maven repository layout under <datadir>/maven-repo (as Debian's maven-repo-helper
# does), usable as a file:// repository; `mvn -o install:install-file` puts it into ~/.m2 (README).
set(BNB_JAVA_PLATFORM ${_bnb_java_platform})
set(BNB_JAVA_POM ${CMAKE_BINARY_DIR}/lib/bnb8.pom)
configure_file(${PROJECT_SOURCE_DIR}/bindings/java/pom.xml.in ${BNB_JAVA_POM} @ONLY)
set(_bnb_maven_dir ${CMAKE_INSTALL_DATADIR}/maven-repo/org/bnb8/bnb8/${PROJECT_VERSION})
install(FILES ${BNB_JAVA_JAR} DESTINATION ${CMAKE_INSTALL_DATADIR}/java COMPONENT java)
install(FILES ${BNB_JAVA_JAR} DESTINATION ${_bnb_maven_dir} RENAME bnb8-${PROJECT_VERSION}.jar COMPONENT java)
install(FILES ${BNB_JAVA_POM} DESTINATION ${_bnb_maven_dir} RENAME bnb8-${PROJECT_VERSION}.pom COMPONENT java)

# bnb_add_java_program(<target> <source> <classes dir> [CLASSPATH <jars...>]): compiles one program
# against bnb8.jar; its class path (bnb8.jar and the given jars) is left in <target>_CLASSPATH.
function(bnb_add_java_program target source classes)
  cmake_parse_arguments(ARG "" "" "CLASSPATH" ${ARGN})
  set(classpath ${BNB_JAVA_JAR} ${ARG_CLASSPATH})
  string(REPLACE ";" ":" classpath "${classpath}")
  get_filename_component(name ${source} NAME_WE)
  add_custom_command(OUTPUT ${classes}/${name}.class
    COMMAND ${Java_JAVAC_EXECUTABLE} ${_bnb_javac_flags} -cp ${classpath} -d ${classes} ${source}
    DEPENDS ${source} ${BNB_JAVA_JAR}
    COMMENT "Compiling ${name}.java"
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS ${classes}/${name}.class)
  add_dependencies(${target} bnb8_jar)  # built once, by its own target, before any program uses it
  set(${target}_CLASSPATH "${classes}:${classpath}" PARENT_SCOPE)
endfunction()

# The README's Java example.
if(BNB_BUILD_EXAMPLES)
  bnb_add_java_program(bnb8_java_quickstart ${PROJECT_SOURCE_DIR}/examples/java/Quickstart.java
                       ${_bnb_java_dir}/examples)
endif()

# Tests under a sanitizer build would need the sanitizer runtime preloaded into the JVM: not run there.
if(NOT BNB_BUILD_TESTS OR BNB_SANITIZE)
  return()
endif()
# -Xcheck:jni makes the JVM verify every JNI call of the module; the library path comes from a property
# so the tests never depend on the environment.
set(_bnb_java_run ${Java_JAVA_EXECUTABLE} -Xcheck:jni -Dorg.bnb8.library=$<TARGET_FILE:bnb8_java>)

find_file(BNB_JUNIT4_JAR NAMES junit4.jar PATHS /usr/share/java NO_DEFAULT_PATH)
find_file(BNB_HAMCREST_JAR NAMES hamcrest-core.jar PATHS /usr/share/java NO_DEFAULT_PATH)
if(BNB_JUNIT4_JAR AND BNB_HAMCREST_JAR)
  bnb_add_java_program(bnb8_java_tests ${PROJECT_SOURCE_DIR}/tests/java/Bnb8Test.java ${_bnb_java_dir}/tests
                       CLASSPATH ${BNB_JUNIT4_JAR} ${BNB_HAMCREST_JAR})
  add_test(NAME java_bnb8 COMMAND ${_bnb_java_run} -cp ${bnb8_java_tests_CLASSPATH} org.junit.runner.JUnitCore Bnb8Test
           WORKING_DIRECTORY ${_bnb_java_dir})
  set_tests_properties(java_bnb8 PROPERTIES LABELS java TIMEOUT 600)
else()
  message(STATUS "bnb8: Java tests skipped (junit4.jar and hamcrest-core.jar not found: Debian package junit4)")
endif()

if(BNB_BUILD_EXAMPLES)
  bnb_add_quickstart_test(example_java_quickstart java
                          ${_bnb_java_run} -cp ${bnb8_java_quickstart_CLASSPATH} Quickstart)
endif()
