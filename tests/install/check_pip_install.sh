#!/usr/bin/env bash
# `pip install` of the repository into a fresh virtual environment (Debian's interpreter, with its
# system site packages for numpy and torch), offline (--no-build-isolation --no-index: setuptools and
# wheel are Debian's), then, from another folder: the package imports from the venv, its native files
# have RUNPATH $ORIGIN and no path into a build tree, and an 8-bit AdamW step moves a parameter.
# By default setup.py reuses <build dir> (BNB8_CMAKE_BUILD_DIR: seconds); BNB_TEST_PIP_FULL=1 lets it
# configure and build its own CMake tree, as `pip install .` does for a user (about 2 CPU-minutes).
# Usage: check_pip_install.sh <build dir> <source dir> <python>
set -euo pipefail
build_dir="$(cd "$1" && pwd)"
source_dir="$(cd "$2" && pwd)"
python="$3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# What pip needs of the source tree, copied so the test leaves nothing in the checkout (setuptools
# writes build-pip/ and *.egg-info beside setup.py). The full build needs the CMake sources too.
if [ "${BNB_TEST_PIP_FULL:-0}" = 1 ]; then
    cp -r "$source_dir" "$work/src"
    rm -rf "$work/src"/build* "$work/src/.git"
    unset BNB8_CMAKE_BUILD_DIR
    export CMAKE_ARGS="${CMAKE_ARGS:--DBNB_WITH_CUDA=OFF}"
else
    mkdir -p "$work/src/include" "$work/src/bindings"
    cp "$source_dir"/{pyproject.toml,setup.py,README.md} "$work/src/"
    cp "$source_dir/include/bnb8.h" "$work/src/include/"
    cp -r "$source_dir/bindings/python" "$work/src/bindings/"
    export BNB8_CMAKE_BUILD_DIR="$build_dir"
fi

"$python" -m venv --system-site-packages "$work/venv"
"$work/venv/bin/python" -m pip install -q --no-build-isolation --no-deps --no-index "$work/src"

site="$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("platlib"))')"
package="$site/bnb8"
test -f "$package/libbnb8.so.0"
for lib in "$package"/*.so*; do
    runpath="$(readelf -d "$lib" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')"
    if [ -n "$runpath" ] && [ "$runpath" != '$ORIGIN' ]; then
        echo "FAIL: $lib has RUNPATH $runpath (expected \$ORIGIN)" >&2
        exit 1
    fi
    if grep -q -F -e "$build_dir" -e "$work/src" "$lib"; then
        echo "FAIL: $lib names a build tree ($build_dir or $work/src)" >&2
        exit 1
    fi
done
test "$(readelf -d "$package/_native.so" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')" = '$ORIGIN'

mkdir "$work/elsewhere"
cd "$work/elsewhere"
env -u PYTHONPATH -u LD_LIBRARY_PATH "$work/venv/bin/python" - "$package" <<'PY'
import os, sys
import bnb8
assert os.path.dirname(bnb8.__file__) == sys.argv[1], (bnb8.__file__, sys.argv[1])
assert bnb8.__version__ == bnb8.version_string()
import numpy as np
w = np.ones(8192, np.float32); g = np.full(8192, 0.5, np.float32)
opt = bnb8.Optimizer("adamw", optim_bits=8)
opt.add_param(w, g)
opt.step()
assert np.all(w < 1), "the numpy step did not move the parameter"
try:
    import torch
except ImportError:
    print("pip install: bnb8", bnb8.__version__, "from", bnb8.__file__, "(numpy step; torch not installed)")
    sys.exit(0)
import bnb8.optim
p = torch.nn.Parameter(torch.ones(8192)); p.grad = torch.full((8192,), 0.5)
optimizer = bnb8.optim.AdamW8bit([p], lr=1e-3)
optimizer.step()
assert torch.all(p < 1), "AdamW8bit.step() did not move the parameter"
assert optimizer.state[p]["state1"].dtype == torch.uint8, "the state is not 8-bit"
print("pip install: bnb8", bnb8.__version__, "from", bnb8.__file__, "(numpy and AdamW8bit steps)")
PY
