#!/usr/bin/env bash
# Installs the AWS API emulator (moto) and botocore into an ignored virtualenv at .venv.
# Idempotent: does nothing when the pinned version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION="5.2.5"
VENV=".venv"
if [ -x "$VENV/bin/moto_server" ] && "$VENV/bin/python" -c "import moto,sys; sys.exit(0 if moto.__version__=='$MOTO_VERSION' else 1)" 2>/dev/null; then
  exit 0
fi
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3,10) else "moto needs Python 3.10+")'
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" "cryptography"
echo "moto $MOTO_VERSION installed in $VENV" >&2
