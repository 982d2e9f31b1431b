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
  BUILD_RPATH "$ORIGIN/../../lib" INSTALL_RPATH "$ORIGIN/../..")
bnb_target_sanitizers(bnb8_python)

# The pure-Python modules of the package, copied beside the generated ones.
set(BNB_PYTHON_SOURCES __init__.py functional.py interop.py _library.py nn.py
  optim/__init__.py optim/optimizer.py optim/_classes.py optim/adam.py optim/adamw.py optim/ademamix.py
  optim/lamb.py optim/lars.py optim/lion.py optim/rmsprop.py optim/sgd.py optim/adagrad.py)
foreach(file ${BNB_PYTHON_SOURCES})
  configure_file(${PROJECT_SOURCE_DIR}/bindings/python/bnb8/${file} ${BNB_PYTHON_PACKAGE_DIR}/${file} COPYONLY)
endforeach()
