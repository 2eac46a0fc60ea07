#!/usr/bin/env bash
# A provider is one spec file: copies specs/novita.yaml to specs/acme.yaml (id, title, key variable and
# paths changed: every path moves under /acme) in a scratch worktree of HEAD, and with no other edit runs
# `cargo xtask codegen`, `cargo xtask lint`, `conformance --provider acme` (every check must pass), and one
# whole `img2img --provider acme` job against `emulator --provider acme`.
#
#   bash conformance/new-provider-proof.sh          # from the repository root; reuses ./target
#
# The scratch worktree is removed at the end, whatever happens; the repository itself is not touched.
set -euo pipefail

root="$(git rev-parse --show-toplevel)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
# A fixed place under the target directory, so a second run reuses the first one's build.
scratch="$CARGO_TARGET_DIR/new-provider-proof"
work="$scratch/tree"
emulator_pid=""
cleanup() {
  [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null || true
  git -C "$root" worktree remove --force "$work" 2>/dev/null || true
  git -C "$root" worktree prune
  rm -rf "$work" "$scratch/out" "$scratch/conformance"
}
trap cleanup EXIT
cleanup
mkdir -p "$scratch"

git worktree add --quiet --detach "$work" HEAD
cd "$work"

# The copy: only these lines differ from novita.yaml.
sed -e '0,/^  title: .*/s//  title: Acme Image to Image API/' \
    -e '0,/^  id: novita$/s//  id: acme/' \
    -e '0,/^  name: Novita AI$/s//  name: Acme/' \
    -e 's/key-env: NOVITA_API_KEY/key-env: ACME_API_KEY/' \
    -e 's#^  /v3/#  /acme/v3/#' \
    specs/novita.yaml > specs/acme.yaml
grep -q '^  id: acme$' specs/acme.yaml
grep -q '^  /acme/v3/async/img2img:$' specs/acme.yaml
! grep -q '^  /v3/' specs/acme.yaml

echo "new-provider proof: codegen and lint of specs/acme.yaml"
cargo xtask codegen
cargo xtask lint

echo "new-provider proof: building conformance, emulator and img2img with the acme client (compiles for a few minutes)"
cargo build --quiet -p img2img-harness --bin conformance -p img2img-emulator --bin emulator \
  -p img2img-client --bin img2img
bin="$CARGO_TARGET_DIR/debug"

echo "new-provider proof: conformance --provider acme"
"$bin/conformance" --provider acme --out "$scratch/conformance"

echo "new-provider proof: one img2img job against emulator --provider acme"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin/emulator" --provider acme --port "$port" --api-key sk-acme-proof > "$scratch/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/emulator/health" > /dev/null && break; sleep 0.1; done
ACME_API_KEY=sk-acme-proof "$bin/img2img" --provider acme --base-url "http://127.0.0.1:$port" \
  --image docs/examples/in.png --prompt "a watercolour fox" --model sd_xl_base_1.0.safetensors \
  --out "$scratch/out"
ls "$scratch"/out/acme-*-0.* > /dev/null
grep -q 'POST /acme/v3/async/img2img 200' "$scratch/emulator.log"
echo "new-provider proof: passed (a copied spec under a new id is served, checked and called with no other edit)"
