# Shared by the scripts: install missing Debian packages (apt-get as root, through sudo otherwise).
# Usage: ensure_packages pkg...

ensure_packages() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo ">> installing missing Debian packages: ${missing[*]}"
    local run=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            run=(sudo)
        else
            echo "error: not root and no sudo; install these packages first: ${missing[*]}" >&2
            return 1
        fi
    fi
    "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${run[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The packages every build needs (the library, OpenBLAS for the C++ trainer's GEMMs, and SWIG with
# Python's headers for the bnb8 package); the main job's (PyTorch, a plot, a progress bar, and the
# OpenBLAS runtime, which Debian's PyTorch then uses through the libblas.so.3 alternative: 20x faster
# than the reference BLAS); and those the tests add (pytest, the Java and C# toolchains, SIMDe for
# the emulated AVX-512 path, venv/pip/setuptools/wheel for the offline `pip install .`, Maven with its
# install plugin for `mvn -o install:install-file` of the jar, and Mono's nuget to pack the .nupkg).
BNB_BUILD_PACKAGES=(cmake g++ make pkg-config libcmocka-dev nlohmann-json3-dev libxxhash-dev libopenblas-dev swig
                    python3-dev)
BNB_DEMO_PACKAGES=(python3-torch python3-numpy python3-matplotlib python3-tqdm libopenblas0-pthread)
BNB_TEST_PACKAGES=("${BNB_DEMO_PACKAGES[@]}" python3-pytest default-jdk-headless junit4 mono-mcs mono-runtime
                   libsimde-dev python3-venv python3-pip python3-setuptools python3-wheel maven
                   libmaven-install-plugin-java nuget)

# Configure and build into $1 (extra CMake arguments follow); BNB_BUILD_TARGET limits the build to
# one target.
bnb_build() {
    local dir="$1"
    shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DBNB_WITH_CUDA="${BNB_WITH_CUDA:-AUTO}" "$@" >/dev/null
    cmake --build "$dir" -j"$(nproc)" ${BNB_BUILD_TARGET:+--target "$BNB_BUILD_TARGET"}
}
