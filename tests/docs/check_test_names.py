#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""check_test_names.py TOP [DOC] - every test DOC (default docs/conformance.md) names exists
and is run by make check. The forms the document uses ("Tests named here"):

  NN-name                     a replay case: pcaps/NN-name/ and its line in
                              tests/replay/Makefile.inc
  test_file/test_name         a Check test: START_TEST(test_name) in tests/unit/test_file.c,
  , other_name, ...           which tests/unit/Makefile.inc builds; names after a comma
                              belong to the same file (unless they begin with test_)
  test_file (alone)           a unit test program, or a script named without .sh
  test_script.sh              a script of tests/*/ (tests/netns mostly) listed in its
                              folder's Makefile.inc

Prints each name that does not exist and exits 1; prints how many names of each kind it
checked, so a change of form that matches nothing shows."""
import os
import re
import sys

top = sys.argv[1]
doc = sys.argv[2] if len(sys.argv) > 2 else os.path.join(top, "docs", "conformance.md")
text = open(doc, encoding="utf-8").read()


def read(rel):
    path = os.path.join(top, rel)
    return open(path, encoding="utf-8").read() if os.path.isfile(path) else ""


replay_mk = read("tests/replay/Makefile.inc")
unit_mk = read("tests/unit/Makefile.inc")
missing = []
counts = {"replay case": 0, "unit test": 0, "unit program": 0, "script": 0}


def need(kind, name, ok):
    counts[kind] += 1
    if not ok:
        missing.append(f"{kind} {name}")


def unit_program(f):
    return os.path.isfile(os.path.join(top, "tests/unit", f + ".c")) and \
        re.search(rf"%reldir%/{f}\b", unit_mk) is not None


def script(f):
    """tests/DIR/f.sh, listed in tests/DIR/Makefile.inc."""
    for d in sorted(os.listdir(os.path.join(top, "tests"))):
        if os.path.isfile(os.path.join(top, "tests", d, f + ".sh")) and \
           re.search(rf"%reldir%/{f}\.sh\b", read(f"tests/{d}/Makefile.inc")):
            return True
    return False


# Replay cases: two digits, a dash, a word (not a number range like 0-1023).
for name in sorted(set(re.findall(r"(?<![\w/.-])(\d\d-[a-z][a-z0-9-]*[a-z0-9])", text))):
    need("replay case", name, os.path.isdir(os.path.join(top, "pcaps", name)) and
         f"pcaps/{name}/in.pcap" in replay_mk)

# Unit tests: test_file/name, then ", name" continuations (names with an underscore; a
# test_ word after the comma is another program).
unit_re = r"\b(test_[a-z0-9_]+)/([a-z0-9_]+)((?:, (?!test_)[a-z0-9]+(?:_[a-z0-9]+)+\b(?![/.]))*)"
for f, first, more in re.findall(unit_re, text):
    src = read(f"tests/unit/{f}.c")
    for t in [first] + re.findall(r"[a-z0-9_]+", more):
        need("unit test", f"{f}/{t}",
             unit_program(f) and re.search(rf"^START_TEST\({t}\)", src, re.M) is not None)


# Scripts: test_name.sh, in tests/netns mostly.
for f in sorted(set(re.findall(r"\b(test_[a-z0-9_]+)\.sh\b", text))):
    need("script", f + ".sh", script(f))

# A bare test_file: a unit program (or a netns script named without .sh).
for f in sorted(set(re.findall(r"\b(test_[a-z0-9_]+)\b(?![/.])", text))):
    need("unit program", f, unit_program(f) or script(f))

for m in missing:
    print(f"{os.path.relpath(doc, top)} names a {m} that does not exist or is not run")
print(", ".join(f"{n} {k}s" for k, n in counts.items()) + " checked")
sys.exit(1 if missing else 0)
