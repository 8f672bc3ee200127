"""Fail CI when a browser or notebook test was skipped, or when none of them ran."""

import sys
import xml.etree.ElementTree as ET

KINDS = ("browser", "notebook")

report = ET.parse(sys.argv[1])
ran = dict.fromkeys(KINDS, 0)
skipped = []
for case in report.iter("testcase"):
    name = f"{case.get('classname')}::{case.get('name')}"
    kind = next((k for k in KINDS if k in name), None)
    if kind is None:
        continue
    if case.find("skipped") is not None:
        skipped.append(name)
    else:
        ran[kind] += 1
problems = [f"skipped: {name}" for name in skipped]
problems += [f"no {kind} test ran" for kind, count in ran.items() if count == 0]
if problems:
    print("CI check failed:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"CI check: {ran['browser']} browser and {ran['notebook']} notebook tests ran, none skipped")
