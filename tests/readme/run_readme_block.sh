#!/usr/bin/env bash
# Runs, exactly as written, the commands of the README.md code block that follows the line
# "<!-- readme-test: NAME -->", from a scratch folder laid out like the repository root (build/lib is
# the build tree's lib/, examples/ the sources'), without LD_LIBRARY_PATH, then opens the checkpoint the
# quickstart saved. So the README's text is what is tested: edit the commands there.
# Usage: run_readme_block.sh <README.md> <NAME> <build dir> <source dir> <scratch dir> [checkpoint check...]
set -euo pipefail
readme="$1" name="$2" build_dir="$3" source_dir="$4" scratch="$5"
shift 5

block="$(awk -v marker="<!-- readme-test: $name -->" '
    $0 == marker { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }' "$readme")"
if [ -z "$block" ]; then
    echo "no code block after '<!-- readme-test: $name -->' in $readme" >&2
    exit 1
fi

rm -rf "$scratch"
mkdir -p "$scratch/build"
ln -s "$build_dir/lib" "$scratch/build/lib"
ln -s "$source_dir/examples" "$scratch/examples"
cd "$scratch"
echo "$block" | sed 's/^/README> /'
env -u LD_LIBRARY_PATH sh -euc "$block"
if [ $# -gt 0 ]; then
    "$@"
fi
