#!/usr/bin/env bash
# Installs Chromium from Debian's packages for the audit report's browser test (playwright-core
# drives it; playwright's own browser downloads are not used). Idempotent: does nothing when
# /usr/bin/chromium already runs.
set -euo pipefail
if [ -x /usr/bin/chromium ] && /usr/bin/chromium --headless --no-sandbox --version >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --headless --no-sandbox --version >&2
