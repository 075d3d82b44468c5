# Shared helpers for scripts/*.sh (sourced, not run).
# shellcheck shell=bash
UV_VERSION="0.13.9"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# uv is the only tool we need beyond Python 3.11; it is installed into .tools/ on first use.
ensure_uv() {
  if command -v uv >/dev/null 2>&1; then UV=$(command -v uv); return; fi
  if [ ! -x .tools/bin/uv ]; then
    say "Installing uv $UV_VERSION into .tools/"
    python3 -m venv .tools
    .tools/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
  UV="$ROOT/.tools/bin/uv"
}

# Create .venv from the lock file (exact versions, no resolution).
ensure_venv() {
  ensure_uv
  say "Installing dependencies from uv.lock"
  "$UV" sync --frozen --python 3.11 "$@"
  export PATH="$ROOT/.venv/bin:$PATH"
}
