#!/usr/bin/env bash
# The steps of examples/ci/github-actions.yml as a plain shell script, for any CI: install the
# emulator and the client grader from one wheel, run your tests against the emulator, grade your
# job under the scenarios, and leave the results and the report for your CI to keep.
#
#   examples/ci/grade.sh python novita_job.py      # the command that runs one whole job
#
# Settings (environment):
#   IMG2IMG_EMULATOR  what pip installs (default img2img-emulator; or a built wheel's path)
#   PROVIDER          the provider your job calls (default novita)
#   SCENARIOS         scenarios to run, space-separated (default: every one)
#   OUT               where the results and the report go (default img2img-grading)
#   PYTEST            the test command run first, empty to skip (default: python -m pytest)
#   PYTHON            the Python to install into and run with (default python3; use a venv's)
#
# Exit status: 0 when every check passed, 1 when one failed, 2 for a usage error.
set -euo pipefail
if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]   (the command that runs one whole job)" >&2
  exit 2
fi
python="${PYTHON:-python3}"
provider="${PROVIDER:-novita}"
out="${OUT:-img2img-grading}"
pytest_command="${PYTEST-$python -m pytest}"

"$python" -m pip install --quiet --disable-pip-version-check "${IMG2IMG_EMULATOR:-img2img-emulator}"
# The wheel's commands are installed beside that Python.
conformance="$("$python" -c 'from img2img_emulator import command; print(command("conformance"))')"

if [ -n "$pytest_command" ]; then
  $pytest_command
fi

scenarios=()
for scenario in ${SCENARIOS:-}; do
  scenarios+=(--scenario "$scenario")
done
status=0
"$conformance" client --provider "$provider" ${scenarios[@]+"${scenarios[@]}"} --out "$out" -- "$@" || status=$?
if [ -f "$out/summary.md" ]; then
  echo "the results: $out/results.json and $out/junit.xml; the report: $out/summary.md; every exchange: $out/exchanges/"
fi
exit "$status"
