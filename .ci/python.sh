# shellcheck shell=bash
# Sourced by the .ci scripts that build a Python venv: `find_python` prints the
# first of python3 and python on PATH, or fails when neither is there.
find_python() {
  local candidate
  for candidate in python3 python; do
    if command -v "$candidate" >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
