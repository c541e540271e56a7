#!/bin/sh
# The main job: install what is missing, build the plugin, then run it in a
# sandboxed Dovecot behind a real HAProxy on loopback and log in through it.
set -eu
cd "$(dirname "$0")/.."

scripts/build.sh
exec make -s demo
