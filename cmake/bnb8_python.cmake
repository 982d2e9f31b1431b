# The Python binding: the SWIG module bnb8.native inside the pure-Python package bindings/python/bnb8,
# assembled in ${CMAKE_BINARY_DIR}/python/bnb8 so tests import it with PYTHONPATH=build/python.
# Debian's interpreter (/usr/bin/python3, which has python3-torch and python3-numpy) is the target.
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "Python interpreter of the binding")
endif()
find_package(Python3 QUIET COMPONENTS Interpreter Development.Module)
bnb_binding_enabled(PYTHON Python3_Development.Module_FOUND BNB_PYTHON_ENABLED)
if(NOT BNB_PYTHON_ENABLED)
  return()
endif()

set(BNB_PYTHON_PACKAGE_DIR ${CMAKE_BINARY_DIR}/python/bnb8)
set_source_files_properties(${PROJECT_SOURCE_DIR}/bindings/bnb8.i PROPERTIES CPLUSPLUS ON)
swig_add_library(bnb8_python TYPE MODULE LANGUAGE python
                 OUTPUT_DIR ${BNB_PYTHON_PACKAGE_DIR} OUTFILE_DIR ${CMAKE_CURRENT_BINARY_DIR}/python_wrap
                 SOURCES ${PROJECT_SOURCE_DIR}/bindings/bnb8.i)
set_property(TARGET bnb8_python PROPERTY SWIG_USE_TARGET_INCLUDE_DIRECTORIES ON)
set_property(TARGET bnb8_python PROPERTY SWIG_COMPILE_OPTIONS -doxygen)
target_link_libraries(bnb8_python PRIVATE bnb8 Python3::Module)
set_target_properties(bnb8_python PROPERTIES
  OUTPUT_NAME _native PREFIX "" LIBRARY_OUTPUT_DIRECTORY ${BNB_PYTHON_PACKAGE_DIR}
  BUILD_RPATH "$ORIGIN/../../lib" INSTALL_RPATH "$ORIGIN")
bnb_target_sanitizers(bnb8_python)

# The pure-Python modules of the package and its subpackages, copied beside the generated ones (found by
# a glob, so a new module or subpackage needs no edit here; CONFIGURE_DEPENDS re-globs at build time).
set(_bnb_python_source_dir ${PROJECT_SOURCE_DIR}/bindings/python/bnb8)
file(GLOB_RECURSE BNB_PYTHON_SOURCES CONFIGURE_DEPENDS RELATIVE ${_bnb_python_source_dir} ${_bnb_python_source_dir}/*.py)
foreach(file ${BNB_PYTHON_SOURCES})
  configure_file(${_bnb_python_source_dir}/${file} ${BNB_PYTHON_PACKAGE_DIR}/${file} COPYONLY)
endforeach()

# Installing the package (component python): bnb8/ with the SWIG module and a copy of libbnb8.so.N beside
# it (the module's RUNPATH is $ORIGIN), so the folder works wherever it is copied, as a wheel needs.
# `cmake --install <build> --component python` installs it into BNB_PYTHON_INSTALL_DIR (relative: under
# the prefix); with BNB_INSTALL_PYTHON=ON a plain `cmake --install` does too. setup.py (pip) uses this.
option(BNB_INSTALL_PYTHON "cmake --install also installs the Python package bnb8 (else only --component python)" OFF)
set(BNB_PYTHON_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/python${Python3_VERSION_MAJOR}.${Python3_VERSION_MINOR}/site-packages"
    CACHE PATH "Folder the Python package bnb8 is installed into (relative paths are under the prefix)")
set(_bnb_python_exclude EXCLUDE_FROM_ALL)
if(BNB_INSTALL_PYTHON)
  set(_bnb_python_exclude "")
endif()
set(_bnb_python_dest ${BNB_PYTHON_INSTALL_DIR}/bnb8)
install(TARGETS bnb8_python LIBRARY DESTINATION ${_bnb_python_dest} COMPONENT python ${_bnb_python_exclude})
install(FILES $<TARGET_FILE:bnb8> RENAME libbnb8.so.${PROJECT_VERSION_MAJOR} DESTINATION ${_bnb_python_dest}
        COMPONENT python ${_bnb_python_exclude})
install(FILES ${BNB_PYTHON_PACKAGE_DIR}/native.py DESTINATION ${_bnb_python_dest} COMPONENT python ${_bnb_python_exclude})
install(DIRECTORY ${_bnb_python_source_dir}/ DESTINATION ${_bnb_python_dest} COMPONENT python ${_bnb_python_exclude}
        FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
