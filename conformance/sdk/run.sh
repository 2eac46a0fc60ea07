#!/usr/bin/env bash
# Runs the providers' official SDKs, unmodified, against an emulator (see README.md): every check
# script there is (python/*_check.py, node/*_check.mjs), each against every provider's emulator.
#
#   conformance/sdk/run.sh                      # against IMG2IMG_BASE_URL (and the optional URLs) as set
#   conformance/sdk/run.sh --emulator PATH      # starts PATH twice on free loopback ports, runs, stops them
#   conformance/sdk/run.sh --capture DIR        # the same against capture_server.py, logging every request to DIR
#
# Installs the pinned SDKs first when missing: into the Python at $SDK_PYTHON (default: a venv it
# makes at target/sdk-venv) from python/requirements.txt, and `npm ci` in node/; runs the JS SDK
# with $SDK_NODE (default node). The tests find the SDKs through the same variables. Exit status
# 0 when every case passed, 1 when one failed, 2 for a usage or setup error.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${SDK_PYTHON:-$root/target/sdk-venv/bin/python}"
node="${SDK_NODE:-node}"

mode=env
arg=""
case "${1:-}" in
  --emulator) mode=emulator; arg="${2:?--emulator needs the emulator binary}";;
  --capture) mode=capture; arg="${2:?--capture needs a log directory}";;
  "") ;;
  *) echo "usage: $0 [--emulator PATH | --capture DIR]" >&2; exit 2;;
esac

if [ -z "${SDK_PYTHON:-}" ] && [ ! -x "$python" ]; then
  python3 -m venv "$root/target/sdk-venv"
fi
"$python" -m pip install -q --disable-pip-version-check -r "$here/python/requirements.txt"
if ! (cd "$here/node" && npm ls --omit=dev >/dev/null 2>&1); then
  (cd "$here/node" && npm ci --no-audit --no-fund --loglevel=error)
fi

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # url: until it answers, at most 30 s
  for _ in $(seq 300); do
    if "$python" -c 'import sys, urllib.request, urllib.error
try: urllib.request.urlopen(sys.argv[1], timeout=1)
except urllib.error.HTTPError: pass
except OSError: sys.exit(1)' "$1"; then return 0; fi
    sleep 0.1
  done
  echo "nothing answers at $1" >&2; exit 2
}

key="${SDK_CHECK_KEY:-sk-test}"
# Each script takes its provider's usual key variable when set, else this one.
export IMG2IMG_API_KEY="$key"
export IMG2IMG_FAULT_REASON="${IMG2IMG_FAULT_REASON:-sdk-check failure}"

started=""
start() { # name, health path, command...: runs it on a free port; its origin in $started
  local name="$1" health="$2" port; shift 2
  port="$(free_port)"
  "$@" --port "$port" >"$logdir/$name.log" 2>&1 &
  pids+=("$!")
  started="http://127.0.0.1:$port"
  wait_for "$started$health"
}

case "$mode" in
  emulator)
    logdir="$root/target/sdk-logs"; mkdir -p "$logdir"
    [ "${arg#/}" = "$arg" ] && arg="$PWD/$arg"
    # One serving every provider (and failing every job of the fault key), one serving every
    # provider whose jobs may be answered at once or queued (x-job style sync-or-queued) queued.
    fault_key="$key-fails"
    start main /emulator/health "$arg" --provider all --api-key "$key" \
      --key-fault "$fault_key=fail=$IMG2IMG_FAULT_REASON"
    IMG2IMG_BASE_URL="$started"
    start queued /emulator/health "$arg" --provider all --modelslab-mode queued --api-key "$key"
    IMG2IMG_QUEUED_BASE_URL="$started"
    IMG2IMG_FAULT_KEY="$fault_key"
    export IMG2IMG_BASE_URL IMG2IMG_QUEUED_BASE_URL IMG2IMG_FAULT_KEY
    ;;
  capture)
    logdir="$arg"; mkdir -p "$logdir"; logdir="$(cd "$logdir" && pwd)"
    server=("$python" "$here/capture_server.py" --api-key "$key")
    start main / "${server[@]}" --log "$logdir/main.jsonl"
    IMG2IMG_BASE_URL="$started" IMG2IMG_QUEUED_BASE_URL="$started"
    start fault / "${server[@]}" --log "$logdir/fault.jsonl" --fault "fail=$IMG2IMG_FAULT_REASON"
    IMG2IMG_FAULT_BASE_URL="$started"
    export IMG2IMG_BASE_URL IMG2IMG_QUEUED_BASE_URL IMG2IMG_FAULT_BASE_URL
    ;;
  env)
    : "${IMG2IMG_BASE_URL:?set IMG2IMG_BASE_URL, or pass --emulator PATH or --capture DIR}"
    ;;
esac

status=0
for script in "$here"/python/*_check.py; do
  (cd "$here/python" && "$python" "$(basename "$script")") || status=1
done
for script in "$here"/node/*_check.mjs; do
  (cd "$here/node" && "$node" "$(basename "$script")") || status=1
done
exit "$status"
