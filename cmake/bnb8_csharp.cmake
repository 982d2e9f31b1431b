# The C# binding: SWIG module Bnb (namespace Bnb8) from bindings/bnb8.i, built into the P/Invoke library
# lib/libbnb8_csharp.so (beside libbnb8.so, found through $ORIGIN) and the assembly lib/Bnb8.dll (the
# generated sources plus bindings/csharp/*.cs), compiled by Mono's mcs and run by mono (Debian packages
# mono-mcs and mono-runtime; no .NET SDK or NuGet). Mono resolves the DllImport "bnb8_csharp" in the
# folder of Bnb8.dll. Tests and the quickstart example run from the build tree.
find_program(BNB_MCS NAMES mcs)
find_program(BNB_MONO NAMES mono)
include(${CMAKE_CURRENT_LIST_DIR}/bnb8_binding_support.cmake)
bnb_binding_gate(CSHARP BNB_MCS AND BNB_MONO)
if(NOT BNB_CSHARP_ENABLED)
  return()
endif()

set(_bnb_csharp_dir ${CMAKE_CURRENT_BINARY_DIR}/csharp)
set(_bnb_csharp_generated ${_bnb_csharp_dir}/generated)
set(BNB_CSHARP_ASSEMBLY ${CMAKE_BINARY_DIR}/lib/Bnb8.dll)
configure_file(${PROJECT_SOURCE_DIR}/bindings/csharp/AssemblyInfo.cs.in ${_bnb_csharp_dir}/AssemblyInfo.cs @ONLY)
set(_bnb_csharp_sources ${PROJECT_SOURCE_DIR}/bindings/csharp/Bnb8Exception.cs
                        ${PROJECT_SOURCE_DIR}/bindings/csharp/PinnedArray.cs ${_bnb_csharp_dir}/AssemblyInfo.cs)

set_source_files_properties(${PROJECT_SOURCE_DIR}/bindings/bnb8.i PROPERTIES CPLUSPLUS ON)
# DllImport("bnb8_csharp"), the portable spelling (UseSWIG's default would be "libbnb8_csharp").
set(SWIG_MODULE_bnb8_csharp_EXTRA_FLAGS -dllimport bnb8_csharp)
swig_add_library(bnb8_csharp TYPE MODULE LANGUAGE csharp
                 OUTPUT_DIR ${_bnb_csharp_generated} OUTFILE_DIR ${_bnb_csharp_dir}/wrap
                 SOURCES ${PROJECT_SOURCE_DIR}/bindings/bnb8.i)
set_property(TARGET bnb8_csharp PROPERTY SWIG_USE_TARGET_INCLUDE_DIRECTORIES ON)
set_property(TARGET bnb8_csharp PROPERTY SWIG_COMPILE_OPTIONS -namespace Bnb8)
set_property(TARGET bnb8_csharp APPEND PROPERTY SWIG_DEPENDS ${PROJECT_SOURCE_DIR}/bindings/csharp/bnb8_csharp.i)
bnb_swig_fresh_output(bnb8_csharp ${_bnb_csharp_generated} ${PROJECT_SOURCE_DIR}/bindings/bnb8.i
                      ${PROJECT_SOURCE_DIR}/bindings/csharp/bnb8_csharp.i)
target_link_libraries(bnb8_csharp PRIVATE bnb8)
set_target_properties(bnb8_csharp PROPERTIES
  OUTPUT_NAME bnb8_csharp PREFIX lib LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib
  BUILD_RPATH "$ORIGIN" INSTALL_RPATH "$ORIGIN" BUILD_RPATH_USE_ORIGIN ON)  # no absolute path into the build tree

# The assembly: the generated file set depends on bnb8.i, so mcs takes whatever SWIG wrote (a shell glob
# at build time), after the module target has run SWIG.
set(_bnb_mcs_flags -nologo -warn:4)
if(BNB_WERROR)
  list(APPEND _bnb_mcs_flags -warnaserror)
endif()
add_custom_command(OUTPUT ${BNB_CSHARP_ASSEMBLY}
  COMMAND sh -c "exec \"$0\" \"$@\" '${_bnb_csharp_generated}'/*.cs" ${BNB_MCS} ${_bnb_mcs_flags} -target:library
          -out:${BNB_CSHARP_ASSEMBLY} ${_bnb_csharp_sources}
  DEPENDS bnb8_csharp ${_bnb_csharp_sources}
  COMMENT "Building the C# binding's assembly lib/Bnb8.dll"
  VERBATIM)
add_custom_target(bnb8_assembly ALL DEPENDS ${BNB_CSHARP_ASSEMBLY})

# The NuGet package's layout, in csharp/package/: Bnb8.nuspec, lib/net45/Bnb8.dll and the native
# libraries under runtimes/linux-x64/native (libbnb8_csharp.so finds libbnb8.so.N beside it through
# $ORIGIN); installed into <libdir>/bnb8/dotnet. With Debian's nuget (Mono's NuGet.exe), also
# csharp/Bnb8.<version>.nupkg, installed beside that folder.
set(_bnb_nuget_dir ${_bnb_csharp_dir}/package)
set(_bnb_nuget_native ${_bnb_nuget_dir}/runtimes/linux-x64/native)
configure_file(${PROJECT_SOURCE_DIR}/bindings/csharp/Bnb8.nuspec.in ${_bnb_csharp_dir}/Bnb8.nuspec @ONLY)
set(_bnb_nuget_stamp ${_bnb_csharp_dir}/package.stamp)
add_custom_command(OUTPUT ${_bnb_nuget_stamp}
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${_bnb_nuget_dir}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${_bnb_nuget_dir}/lib/net45 ${_bnb_nuget_native}
  COMMAND ${CMAKE_COMMAND} -E copy ${_bnb_csharp_dir}/Bnb8.nuspec ${_bnb_nuget_dir}/Bnb8.nuspec
  COMMAND ${CMAKE_COMMAND} -E copy ${BNB_CSHARP_ASSEMBLY} ${_bnb_nuget_dir}/lib/net45/Bnb8.dll
  COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:bnb8_csharp> ${_bnb_nuget_native}/libbnb8_csharp.so
  COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:bnb8> ${_bnb_nuget_native}/libbnb8.so.${PROJECT_VERSION_MAJOR}
  COMMAND ${CMAKE_COMMAND} -E touch ${_bnb_nuget_stamp}
  DEPENDS bnb8 bnb8_csharp ${BNB_CSHARP_ASSEMBLY} ${_bnb_csharp_dir}/Bnb8.nuspec
  COMMENT "Laying out the C# package in csharp/package"
  VERBATIM)
set(_bnb_nuget_outputs ${_bnb_nuget_stamp})
find_program(BNB_NUGET NAMES nuget)
set(BNB_NUPKG ${_bnb_csharp_dir}/Bnb8.${PROJECT_VERSION}.nupkg)
if(BNB_NUGET)
  add_custom_command(OUTPUT ${BNB_NUPKG}
    COMMAND ${BNB_NUGET} pack ${_bnb_nuget_dir}/Bnb8.nuspec -BasePath ${_bnb_nuget_dir} -OutputDirectory ${_bnb_csharp_dir}
            -NonInteractive -Verbosity quiet
    DEPENDS ${_bnb_nuget_stamp}
    COMMENT "Packing csharp/Bnb8.${PROJECT_VERSION}.nupkg"
    VERBATIM)
  list(APPEND _bnb_nuget_outputs ${BNB_NUPKG})
else()
  message(STATUS "bnb8: no .nupkg (nuget not found: Debian package nuget); the package layout is still built")
endif()
add_custom_target(bnb8_csharp_package ALL DEPENDS ${_bnb_nuget_outputs})

set(BNB_CSHARP_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/bnb8/dotnet)
install(DIRECTORY ${_bnb_nuget_dir}/ DESTINATION ${BNB_CSHARP_INSTALL_DIR} COMPONENT csharp USE_SOURCE_PERMISSIONS)
if(BNB_NUGET)
  install(FILES ${BNB_NUPKG} DESTINATION ${BNB_CSHARP_INSTALL_DIR} COMPONENT csharp)
endif()

# bnb_add_csharp_program(<target> <source> <exe>): compiles one program against Bnb8.dll.
function(bnb_add_csharp_program target source exe)
  add_custom_command(OUTPUT ${exe}
    COMMAND ${BNB_MCS} ${_bnb_mcs_flags} -r:${BNB_CSHARP_ASSEMBLY} -out:${exe} ${source}
    DEPENDS ${source} ${BNB_CSHARP_ASSEMBLY}
    COMMENT "Compiling ${source}"
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS ${exe})
  add_dependencies(${target} bnb8_assembly)  # built once, by its own target, before any program uses it
endfunction()

# The README's C# example.
if(BNB_BUILD_EXAMPLES)
  bnb_add_csharp_program(bnb8_csharp_quickstart ${PROJECT_SOURCE_DIR}/examples/csharp/Quickstart.cs
                         ${_bnb_csharp_dir}/Quickstart.exe)
endif()

# Tests under a sanitizer build would need the sanitizer runtime preloaded into mono: not run there.
if(NOT BNB_BUILD_TESTS OR BNB_SANITIZE)
  return()
endif()
# --debug gives exceptions' stack traces line numbers; MONO_PATH is where Bnb8.dll (and beside it
# libbnb8_csharp.so) is found.
set(_bnb_csharp_run ${CMAKE_COMMAND} -E env MONO_PATH=${CMAKE_BINARY_DIR}/lib ${BNB_MONO} --debug)

bnb_add_csharp_program(bnb8_csharp_tests ${PROJECT_SOURCE_DIR}/tests/csharp/Bnb8Tests.cs
                       ${_bnb_csharp_dir}/Bnb8Tests.exe)
add_test(NAME csharp_bnb8 COMMAND ${_bnb_csharp_run} ${_bnb_csharp_dir}/Bnb8Tests.exe
         WORKING_DIRECTORY ${_bnb_csharp_dir})
set_tests_properties(csharp_bnb8 PROPERTIES LABELS csharp TIMEOUT 600)

if(BNB_BUILD_EXAMPLES)
  bnb_add_quickstart_test(example_csharp_quickstart csharp ${_bnb_csharp_run} ${_bnb_csharp_dir}/Quickstart.exe)
endif()
