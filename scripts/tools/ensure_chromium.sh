#!/usr/bin/env bash
# Installs Debian's chromium for the HTML report's browser test when it is missing and this
# machine can (apt-get as root, or sudo without a password). Never fails: without it the
# test is skipped and says why.
set -u
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: no apt-get here; the browser test will be skipped" >&2
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    as_root=()
elif sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "ensure_chromium: not root; the browser test will be skipped" >&2
    exit 0
fi
echo "ensure_chromium: installing Debian's chromium (for the HTML report test)" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq >/dev/null 2>&1 || true
"${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
    || echo "ensure_chromium: apt-get could not install chromium; the test will be skipped" >&2
exit 0
