# Sourced by scripts/demo and scripts/test: make .venv with Taxiway installed, from nothing.
#
# Works on a fresh Debian machine with Python 3.11: creates the virtualenv (installing
# python3-venv through apt when root, or printing the exact command otherwise), then
# installs the pinned packages. Re-runs are fast: a stamp records what was installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    printf 'Taxiway needs this, run as root:\n  sudo %s\n' "$*" >&2
    exit 1
  fi
}

apt_updated=0
apt_install() {
  # apt_install PKG...: install Debian packages (apt-get update once first).
  if ! command -v apt-get >/dev/null 2>&1; then
    printf 'Taxiway needs the Debian packages: %s (no apt-get on this machine)\n' "$*" >&2
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    printf 'Taxiway needs Debian packages; run as root:\n  sudo apt-get update && sudo apt-get install -y %s\n' "$*" >&2
    exit 1
  fi
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    apt_updated=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

find_python() {
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

ensure_tenant_python() {
  # Isolated instances (a satellite run as root) run as dynamic users, who cannot pass into
  # root's home: they need a python3 installed for the whole machine.
  [ "$(id -u)" = 0 ] || return 0
  [ -x /usr/bin/python3 ] || [ -x /usr/local/bin/python3 ] || apt_install python3
}

ensure_venv() {
  # ensure_venv [extras]: .venv with taxiway installed (extras e.g. "dev").
  local extras="${1:-}"
  local python
  if ! python="$(find_python)"; then
    apt_install python3 python3-venv
    python="$(find_python)" || { echo "Python 3.11 or newer is required" >&2; exit 1; }
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $python"
    if ! "$python" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"
      local minor
      minor="$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
      apt_install "python${minor}-venv"
      "$python" -m venv "$VENV"
    fi
  fi
  local target="$ROOT${extras:+[$extras]}"
  local stamp="$VENV/.taxiway-installed"
  local want
  want="$(cat "$ROOT/pyproject.toml" "$ROOT/requirements/constraints.txt" | sha256sum | cut -c1-16)-${extras}"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing taxiway${extras:+ with [$extras]} into $VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
      -c "$ROOT/requirements/constraints.txt" -e "$target" >&2
    echo "$want" >"$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}

ensure_observability() {
  # Each region's Prometheus, the global one and promtool (Debian's prometheus), and
  # Alertmanager (prometheus-alertmanager, whose binary Debian names so).
  local missing=()
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1 ||
    missing+=(prometheus-alertmanager)
  [ "${#missing[@]}" -eq 0 ] || apt_install "${missing[@]}"
}
