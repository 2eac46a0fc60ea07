#!/usr/bin/env bash
# The built packages as a team installs them (`.ci/run` runs this after `cargo xtask dist`):
#
#   bash dist/check.sh [DIST_DIR]          # default target/dist
#
# 1. dist/measure.sh: sizes, and install-to-first-answer times.
# 2. Python: a fresh venv with the built wheel and dist/python/tests/requirements.txt (pytest,
#    novita-client 0.7.1) from PyPI; pytest runs dist/python/tests/ from a copy outside the source
#    tree, so what it imports is the installed wheel.
#    Then examples/ci/grade.sh with the wheel grades novita-client's job (conformance/sdk/grade/).
# 3. npm: a temporary node project with novita-sdk 3.1.3 from the lock file of conformance/sdk/node,
#    and the two built tarballs; node's test runner runs dist/npm/tests/ from there.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
dist="$(realpath "${1:-target/dist}")"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

wheel=("$dist"/img2img_emulator-*.whl)
tarballs=("$dist"/img2img-emulator-*.tgz)
[ -f "${wheel[0]}" ] && [ -f "${tarballs[0]}" ] || { echo "nothing built in $dist: run cargo xtask dist" >&2; exit 2; }

bash dist/measure.sh "$dist"

echo "python: fresh venv, the wheel, pytest and novita-client; pytest dist/python/tests"
"$python" -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "${wheel[@]}" -r dist/python/tests/requirements.txt
cp -r dist/python/tests "$work/python-tests"
status=0
(cd "$work/python-tests" && "$work/venv/bin/python" -m pytest -p no:cacheprovider -v .) || status=$?
# Exit 5 is pytest's "no tests collected": the fixture's tests must have run.
if [ "$status" -ne 0 ]; then
  echo "pytest failed (exit $status)" >&2
  exit 1
fi

echo "the example CI script (examples/ci/grade.sh) with the wheel: novita-client's job graded under happy"
PYTHON="$work/venv/bin/python" IMG2IMG_EMULATOR="${wheel[0]}" PROVIDER=novita SCENARIOS=happy PYTEST= \
  OUT="$work/grading" bash examples/ci/grade.sh "$work/venv/bin/python" conformance/sdk/grade/novita_client_job.py
test -f "$work/grading/results.json" && test -f "$work/grading/summary.md"

echo "npm: temporary project, novita-sdk from its lock file and the built tarballs; node --test"
mkdir "$work/node-project"
cp conformance/sdk/node/package.json conformance/sdk/node/package-lock.json "$work/node-project/"
cp -r dist/npm/tests "$work/node-project/tests"
cd "$work/node-project"
npm ci --no-audit --no-fund --loglevel=error
npm install --no-save --no-audit --no-fund --loglevel=error "${tarballs[@]}"
node --test tests/
cd "$root"
