#!/bin/sh
# Install what is missing and build everything with warnings as errors;
# arguments go to configure (scripts/check.sh adds --enable-coverage).
set -eu
cd "$(dirname "$0")/.."

scripts/deps.sh
./autogen.sh
./configure --enable-werror "$@"
make -j"$(nproc)"
