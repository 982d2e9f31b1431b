"""The documentation in docs/ and the README states facts the library must keep: the map tables in
docs/numerics.md are the library's tables bit for bit, the rounding examples there hold, and every
relative link of the README and docs/ points at a file of this repository (none outside it, as the
user of a clone or a package has nothing beside it)."""

import os
import re

import numpy as np
import pytest

import bnb8.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCS = os.path.join(ROOT, "docs")


def _map_block(kind):
    text = open(os.path.join(DOCS, "numerics.md"), encoding="utf-8").read()
    match = re.search(r"<!-- map: %s -->\n```\n(.*?)```" % kind, text, re.S)
    assert match, f"docs/numerics.md has no '<!-- map: {kind} -->' block"
    words = match.group(1).split()
    return np.array([int(w, 16) for w in words], dtype=np.uint32)


@pytest.mark.parametrize("kind", ["signed", "unsigned"])
def test_documented_map_is_the_library_map(kind):
    documented = _map_block(kind)
    library = np.asarray(F.create_dynamic_map(signed=kind == "signed"), dtype=np.float32).view(np.uint32)
    assert documented.shape == (256,), f"{kind} map block has {documented.size} entries"
    differing = np.flatnonzero(documented != library)
    assert differing.size == 0, f"{kind} map differs at codes {differing[:8].tolist()}"


def _codes(values, absmax_of_block=1.0):
    """Quantize one 256-element block whose absmax is absmax_of_block (element 0 holds it), return the
    codes of the given values (elements 1..)."""
    block = np.zeros(256, np.float32)
    block[0] = absmax_of_block
    block[1:1 + len(values)] = values
    codes, _ = F.quantize_blockwise(block, blocksize=256)
    return [int(c) for c in np.asarray(codes).reshape(-1)[1:1 + len(values)]]


def test_documented_rounding_examples():
    # numerics.md: -0.0 -> 126, -1e-9*A -> 126, +1e-9*A -> 127 (signed map), and ties go to the even code.
    assert _codes([-0.0, -1e-9, 1e-9]) == [126, 126, 127]
    signed = np.asarray(F.create_dynamic_map(signed=True), dtype=np.float32)
    for k in (130, 131, 200, 253):
        mid = np.float32((np.float32(signed[k] + signed[k + 1])) * np.float32(0.5))
        below, above = np.nextafter(mid, np.float32(-1)), np.nextafter(mid, np.float32(2))
        even = k if k % 2 == 0 else k + 1
        assert _codes([mid, below, above]) == [even, k, k + 1], f"midpoint between codes {k} and {k + 1}"


def test_documented_empty_block_and_dequantize():
    # numerics.md: a block below 2^-126 stores absmax 0 and the zero code; absmax 0 decodes to +0.0.
    block = np.full(256, np.float32(1e-39), np.float32)
    codes, state = F.quantize_blockwise(block, blocksize=256)
    assert set(np.asarray(codes).reshape(-1).tolist()) == {127}
    assert float(np.asarray(state.absmax).reshape(-1)[0]) == 0.0
    decoded = np.asarray(F.dequantize_blockwise(codes, state))
    assert not np.signbit(decoded).any() and not decoded.any()


def _anchors(path):
    """GitHub's heading anchors: lower case, punctuation other than '-' and '_' dropped, spaces to '-'."""
    anchors = set()
    for line in open(path, encoding="utf-8"):
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def _markdown_files():
    files = [os.path.join(ROOT, "README.md")]
    files += [os.path.join(DOCS, name) for name in sorted(os.listdir(DOCS)) if name.endswith(".md")]
    return files


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_relative_links_stay_in_the_repository(path):
    text = open(path, encoding="utf-8").read()
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        file_part = target.split("#", 1)[0]
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file_part))
        if not resolved.startswith(ROOT + os.sep) or not os.path.exists(resolved):
            broken.append(target)
        elif "#" in target and resolved.endswith(".md") and target.split("#", 1)[1] not in _anchors(resolved):
            broken.append(target)
    assert not broken, f"{os.path.relpath(path, ROOT)} links outside the repository, to missing files or to missing headings: {broken}"
