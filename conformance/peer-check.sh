#!/usr/bin/env bash
# The peer check: schemathesis (pinned) runs every phase, stateful included, against the emulator of
# every spec in specs/ with the project's own specs and a fixed seed; zero failures required. Each
# spec's configuration (the key where its x-auth puts it, the image fields' exception, the
# hand-judged exceptions of conformance/schemathesis.toml) is written by `cargo xtask peer-config`.
#
#   conformance/peer-check.sh                       # builds and starts the emulator on a free port
#   BASE_URL=https://staging.example conformance/peer-check.sh   # any target speaking the APIs
#
# Environment: ST_MAX_TIME (seconds per provider, default 60), ST_SEED (default 1), API_KEY (the
# key for every provider, default sk-test; the emulator is started with it).
set -euo pipefail
cd "$(dirname "$0")/.."
ST_VERSION=4.32.5
VENV=target/st-venv
KEY="${API_KEY:-sk-test}"
if [ ! -x "$VENV/bin/st" ] || ! "$VENV/bin/st" --version | grep -q "$ST_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$ST_VERSION"
fi
"$VENV/bin/st" --version

EMULATOR_PID=
cleanup() { if [ -n "$EMULATOR_PID" ]; then kill "$EMULATOR_PID" 2>/dev/null || true; wait "$EMULATOR_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT
if [ -z "${BASE_URL:-}" ]; then
  cargo build --quiet -p img2img-emulator --bin emulator
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  target/debug/emulator --provider all --port "$PORT" --api-key "$KEY" > target/peer-check-emulator.log 2>&1 &
  EMULATOR_PID=$!
  BASE_URL="http://127.0.0.1:$PORT"
  for _ in $(seq 50); do curl -sf "$BASE_URL/emulator/health" >/dev/null && break; sleep 0.2; done
fi

export PEER_CHECK_API_KEY="$KEY"
cargo xtask peer-config target/peer-check/config >/dev/null
status=0
for spec in specs/*.yaml; do
  provider=$(basename "$spec" .yaml)
  echo "== schemathesis $provider against $BASE_URL"
  "$VENV/bin/st" --config-file "target/peer-check/config/$provider.toml" run "$spec" \
    -u "$BASE_URL" --seed "${ST_SEED:-1}" --max-time "${ST_MAX_TIME:-60}" \
    --request-timeout 60 --continue-on-failure --no-color \
    --report junit --report-dir "target/peer-check/$provider" || status=1
done
exit $status
