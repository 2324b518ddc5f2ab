#!/usr/bin/env bash
# Installs the AWS API emulator (moto) and botocore into an ignored virtualenv at .venv.
# Idempotent: does nothing when the pinned version is already there. On a first run it says what
# it is doing before the slow pip step, prints a dot every few seconds while pip works (its full
# output goes to .venv/pip-install.log, shown when it fails) and how long it took.
# NOCREDS_VENV (another directory) and NOCREDS_PROGRESS_SECONDS exist for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION="5.2.5"
VENV="${NOCREDS_VENV:-.venv}"
EVERY="${NOCREDS_PROGRESS_SECONDS:-3}"
if [ -x "$VENV/bin/moto_server" ] && "$VENV/bin/python" -c "import moto,sys; sys.exit(0 if moto.__version__=='$MOTO_VERSION' else 1)" 2>/dev/null; then
  exit 0
fi
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3,10) else "moto needs Python 3.10+")'
started=$SECONDS
echo "First run: installing the AWS emulator moto $MOTO_VERSION into $VENV with pip (once; about a minute, more on a slow network)" >&2
"$PY" -m venv "$VENV"
LOG="$VENV/pip-install.log"
"$VENV/bin/pip" install --disable-pip-version-check --progress-bar off "moto[server]==$MOTO_VERSION" "cryptography" >"$LOG" 2>&1 &
pip_pid=$!
# Dots while pip runs; `wait` gives pip's exit status, which set -e must not swallow.
while kill -0 "$pip_pid" 2>/dev/null; do
  printf '.' >&2
  sleep "$EVERY"
done
status=0
wait "$pip_pid" || status=$?
echo >&2
if [ "$status" -ne 0 ]; then
  echo "pip failed (exit $status) after $((SECONDS - started)) s; the end of $LOG:" >&2
  tail -n 30 "$LOG" >&2
  exit "$status"
fi
echo "moto $MOTO_VERSION installed in $VENV in $((SECONDS - started)) s" >&2
