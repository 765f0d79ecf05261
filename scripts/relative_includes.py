#!/usr/bin/env python3
"""scripts/relative_includes.py — the include rule of the installed headers, applied mechanically.

The library's headers (every .hpp under tensor/, autograd/, datasets/, flows/) are installed as
<prefix>/include/flowzoo/<folder>/..., and user code includes them as <flowzoo/flows/presets.hpp>.
So that they find each other there with nothing but -I<prefix>/include (no -I.../flowzoo, whose
top-level "tensor/" or "flows/" could clash with another package's headers), a library header
names the project headers it includes by their path relative to itself: "shape.hpp",
"../tensor/tensor.hpp". That resolves identically in the source tree and installed.
.cpp files and the headers of cli/, tests/, bench/, examples/, fuzz/ keep the root-relative form
("tensor/tensor.hpp", through -I of the source root): they are never installed.

Usage: scripts/relative_includes.py [--check]   (from anywhere; rewrites in place, prints what it
changed; --check changes nothing and exits 1 if a library header still has a root-relative
include). Idempotent: an include already relative to its header is left alone.
"""
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
LIBRARY_FOLDERS = ["tensor", "autograd", "datasets", "flows"]
INCLUDE = re.compile(r'^(\s*#\s*include\s*")([^"]+)(".*)$')


def library_headers():
    for folder in LIBRARY_FOLDERS:
        for directory, _, names in os.walk(os.path.join(ROOT, folder)):
            for name in sorted(names):
                if name.endswith(".hpp"):
                    yield os.path.join(directory, name)


def relative_form(header, target):
    """The include path for `target` written in `header`, or None when it is not root-relative."""
    here = os.path.dirname(header)
    if os.path.isfile(os.path.join(here, target)):
        return None  # already found next to the header (relative form, or a same-folder name)
    if not os.path.isfile(os.path.join(ROOT, target)):
        return None  # not a project header (e.g. a generated or third-party quoted include)
    return os.path.relpath(os.path.join(ROOT, target), here).replace(os.sep, "/")


def main():
    check_only = "--check" in sys.argv[1:]
    offenders = 0
    for header in library_headers():
        with open(header, encoding="utf-8") as f:
            lines = f.read().split("\n")
        changed = False
        for i, line in enumerate(lines):
            m = INCLUDE.match(line)
            if not m:
                continue
            new_target = relative_form(header, m.group(2))
            if new_target is None:
                continue
            offenders += 1
            rel = os.path.relpath(header, ROOT)
            if check_only:
                print(f"{rel}: root-relative #include \"{m.group(2)}\" (write \"{new_target}\")")
                continue
            lines[i] = m.group(1) + new_target + m.group(3)
            changed = True
        if changed:
            with open(header, "w", encoding="utf-8") as f:
                f.write("\n".join(lines))
            print(f"rewrote {os.path.relpath(header, ROOT)}")
    if check_only and offenders:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
