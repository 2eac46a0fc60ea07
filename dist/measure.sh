#!/usr/bin/env bash
# How long a team waits: from installing the built packages into a fresh environment to the first
# request the emulator answers. Run after `cargo xtask dist`:
#
#   bash dist/measure.sh [DIST_DIR]        # default target/dist
#
# Python: a new venv (not timed), then `pip install` of the wheel, then `start()` and one request
# with the emulator's key (timed together). npm: a new project (not timed), then `npm install` of
# the two tarballs, then `startEmulator()` and one request (timed together). Prints the sizes too.
set -euo pipefail
cd "$(dirname "$0")/.."
dist="$(realpath "${1:-target/dist}")"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
size() { awk -v b="$(wc -c <"$1")" 'BEGIN { if (b < 1048576) printf "%.1f KiB", b / 1024; else printf "%.1f MiB", b / 1048576 }'; }

wheel=("$dist"/img2img_emulator-*.whl)
tarballs=("$dist"/img2img-emulator-*.tgz)
[ -f "${wheel[0]}" ] || { echo "no wheel in $dist: run cargo xtask dist" >&2; exit 2; }
for file in "${wheel[@]}" "${tarballs[@]}"; do
  printf '  %10s  %s\n' "$(size "$file")" "$(basename "$file")"
done

"$python" -m venv "$work/venv"
start="$(now)"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "${wheel[@]}"
"$work/venv/bin/python" - <<'EOF'
import urllib.error, urllib.request
from img2img_emulator import start
emulator = start("novita")
request = urllib.request.Request(emulator.base_url + "/v3/async/task-result?task_id=none",
                                 headers={"Authorization": "Bearer " + emulator.api_key})
try:
    urllib.request.urlopen(request, timeout=10)
except urllib.error.HTTPError as answer:  # an unknown task: the provider's own 4xx answer
    assert answer.code < 500, answer.code
emulator.stop()
EOF
echo "python: pip install of the wheel to the first answered request: $(seconds "$start" "$(now)") s"

mkdir "$work/node-project"
cd "$work/node-project"
echo '{"name": "measure", "private": true}' >package.json
start="$(now)"
npm install --no-audit --no-fund --loglevel=error "${tarballs[@]}" >/dev/null
node --input-type=module - <<'EOF'
import { startEmulator } from "img2img-emulator";
const emulator = await startEmulator({ provider: "novita" });
const answer = await fetch(`${emulator.baseUrl}/v3/async/task-result?task_id=none`, {
  headers: { Authorization: `Bearer ${emulator.apiKey}` },
});
if (answer.status >= 500) throw new Error(`HTTP ${answer.status}`);
await emulator.stop();
EOF
echo "npm: npm install of the tarballs to the first answered request: $(seconds "$start" "$(now)") s"
