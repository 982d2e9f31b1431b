"""setuptools' part of `pip install .` / `pip wheel .` (metadata: pyproject.toml).

The native parts (libbnb8.so and the SWIG module bnb8._native) are built by the project's CMake and
installed into the wheel's bnb8/ folder with `cmake --install --component python`
(cmake/bnb8_python.cmake): the module's RUNPATH is $ORIGIN and libbnb8.so.N sits beside it, so the
installed package holds no path into a build tree.

Environment:
  BNB8_CMAKE_BUILD_DIR  use this already built CMake tree instead of configuring and building one
                        (it must have been built with the Python binding; nothing is rebuilt there);
  CMAKE_ARGS            extra arguments for the CMake configuration, e.g. "-DBNB_WITH_CUDA=OFF";
  CMAKE_BUILD_PARALLEL_LEVEL  parallel build jobs (default: every CPU).
"""

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


def header_version():
    """MAJOR.MINOR.PATCH from include/bnb8.h, where the version is defined once."""
    with open(os.path.join(ROOT, "include", "bnb8.h"), encoding="utf-8") as header:
        text = header.read()
    parts = [re.search(rf"^#define BNB_VERSION_{part} (\d+)$", text, re.M) for part in ("MAJOR", "MINOR", "PATCH")]
    if not all(parts):
        raise RuntimeError("BNB_VERSION_MAJOR/MINOR/PATCH not found in include/bnb8.h")
    return ".".join(match.group(1) for match in parts)


class CMakeBuild(build_ext):
    """Builds the one extension, bnb8._native, with CMake, and copies the installed package component."""

    def build_extension(self, ext):
        build_dir = os.environ.get("BNB8_CMAKE_BUILD_DIR")
        if build_dir:
            build_dir = os.path.abspath(build_dir)
        else:
            build_dir = os.path.join(os.path.abspath(self.build_temp), "cmake")
            configure = ["cmake", "-S", ROOT, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
                         f"-DPython3_EXECUTABLE={sys.executable}", "-DBNB_BUILD_PYTHON=ON",
                         "-DBNB_BUILD_JAVA=OFF", "-DBNB_BUILD_CSHARP=OFF", "-DBNB_BUILD_TESTS=OFF",
                         "-DBNB_BUILD_BENCH=OFF", "-DBNB_BUILD_EXAMPLES=OFF"]
            configure += shlex.split(os.environ.get("CMAKE_ARGS", ""))
            subprocess.run(configure, check=True)
            jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
            subprocess.run(["cmake", "--build", build_dir, "--target", "bnb8_python", "-j", jobs], check=True)
        # Staged through a scratch prefix: the component's folder under it is BNB_PYTHON_INSTALL_DIR.
        package_dir = os.path.dirname(os.path.abspath(self.get_ext_fullpath(ext.name)))
        with tempfile.TemporaryDirectory() as stage:
            subprocess.run(["cmake", "--install", build_dir, "--component", "python", "--prefix", stage], check=True)
            found = glob.glob(os.path.join(stage, "**", "bnb8", "__init__.py"), recursive=True)
            if len(found) != 1:
                raise RuntimeError(f"cmake --install --component python left {len(found)} bnb8 packages in {stage}")
            shutil.copytree(os.path.dirname(found[0]), package_dir, dirs_exist_ok=True)


setup(
    version=header_version(),
    ext_modules=[Extension("bnb8._native", sources=[])],  # built by CMake; makes the wheel platform-specific
    cmdclass={"build_ext": CMakeBuild},
    # setuptools' own build folder: not build/, which is the CMake build tree of the README's commands.
    options={"build": {"build_base": "build-pip"}},
)
