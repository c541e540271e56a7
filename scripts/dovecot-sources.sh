#!/bin/sh
# Where the upstream Dovecot tarballs are: $DOVECOT_SOURCES if set, else
# ../shared/dovecot next to this tree, else next to the tree it was cloned
# from when that is a local path (a CI clone of /work/main finds
# /work/shared/dovecot). Prints the directory; if there is none, says so on
# a line of its own on standard error and exits 1.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

if [ -n "${DOVECOT_SOURCES:-}" ]; then
	echo "$DOVECOT_SOURCES"
	exit 0
fi
places="$top/../shared/dovecot"
origin=$(git -C "$top" remote get-url origin 2>/dev/null || true)
case $origin in
file://*)	origin=${origin#file://} ;;
*://* | *:*)	origin= ;;	# not on this machine
esac
if [ -n "$origin" ]; then
	case $origin in
	/*)	;;
	*)	origin=$top/$origin ;;
	esac
	places="$places $origin/../shared/dovecot"
fi
for dir in $places; do
	if [ -d "$dir" ]; then
		(cd "$dir" && pwd)
		exit 0
	fi
done
echo "No Dovecot sources found (looked in: $places)" >&2
exit 1
