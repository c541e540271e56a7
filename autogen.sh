#!/bin/sh
# Generate configure and the build-aux scripts from a git checkout.
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
# automake ships the TAP driver but does not install it by itself.
for dir in /usr/share/automake-*; do
	if [ -f "$dir/tap-driver.sh" ]; then
		cp "$dir/tap-driver.sh" build-aux/
		break
	fi
done
test -f build-aux/tap-driver.sh || { echo "autogen.sh: automake's tap-driver.sh not found" >&2; exit 1; }
