#!/bin/sh
# Install what `make check` needs and a fresh Debian machine lacks.
# Only pkg-config is required (for the out-of-tree consumer test); zlib is
# optional and is never installed here: the library builds and passes its
# tests without it. Runs apt-get only when something is missing.
need=""
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
[ -z "$need" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
echo "deps: installing$need" >&2
$SUDO apt-get update -qq >/dev/null && $SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq $need >/dev/null || {
    echo "deps: could not install$need; the tests that need it will fail" >&2
    exit 0
}
