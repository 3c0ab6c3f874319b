"""Validates JUnit XML files against an XSD (see .ci/junit-xsd.sh).

usage: junit_xsd.py XSD FILE...

conform writes the Jenkins flavour plus one documented extension, listed in
EXTENSIONS: those attributes are removed before validation, and only those.
Every other attribute or element must be in the XSD. Prints one line per
error (file, element path, reason) and exits 1 if any file is invalid.
"""

import sys
import xml.etree.ElementTree as ET

import xmlschema

# (element, attribute) pairs conform writes beyond the XSD, each documented in
# the README ("JUnit flavour"): GitLab reads <testcase file="...">, and older
# revisions of the same junit-10.xsd allowed it.
EXTENSIONS = {("testcase", "file")}


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    schema = xmlschema.XMLSchema10(argv[1])
    invalid = 0
    for path in argv[2:]:
        try:
            tree = ET.parse(path)
        except ET.ParseError as e:
            print(f"{path}: not well-formed XML: {e}")
            invalid += 1
            continue
        cases = 0
        for el in tree.iter():
            if el.tag == "testcase":
                cases += 1
            for tag, attr in EXTENSIONS:
                if el.tag == tag:
                    el.attrib.pop(attr, None)
        errors = list(schema.iter_errors(tree))
        for e in errors:
            print(f"{path}: {e.path}: {e.reason}")
        if errors:
            invalid += 1
        else:
            print(f"{path}: valid ({cases} testcases)")
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
