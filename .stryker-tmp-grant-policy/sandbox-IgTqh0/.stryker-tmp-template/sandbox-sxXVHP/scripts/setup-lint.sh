#!/usr/bin/env bash
# Installs the template checkers operators run (cfn-lint, checkov) into an ignored virtualenv at
# .venv-lint, apart from moto's .venv: checkov pins many libraries (boto3 among them) that must
# not move under the emulator. Idempotent: does nothing when the pinned versions are there.
set -euo pipefail
cd "$(dirname "$0")/.."
CFN_LINT_VERSION="1.58.0"
CHECKOV_VERSION="3.3.30"
VENV=".venv-lint"
installed() {
  [ -x "$VENV/bin/cfn-lint" ] && [ -x "$VENV/bin/checkov" ] &&
    "$VENV/bin/python" - "$CFN_LINT_VERSION" "$CHECKOV_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("cfn-lint"), version("checkov")) == (sys.argv[1], sys.argv[2]) else 1)
PY
}
if installed; then exit 0; fi
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3,9) else "cfn-lint and checkov need Python 3.9+")'
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION" "checkov==$CHECKOV_VERSION"
echo "cfn-lint $CFN_LINT_VERSION and checkov $CHECKOV_VERSION installed in $VENV" >&2
