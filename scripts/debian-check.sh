#!/bin/sh
# Run scripts/check.sh (the build, every test, the Debian packages built,
# installed on the system's Dovecot and purged) on another Debian release,
# in a chroot, as root on a Debian host:
#
#   scripts/debian-check.sh trixie      Debian 13, Dovecot 2.4.1
#   scripts/debian-check.sh trixie sh -c 'scripts/build.sh && make check TESTS=...'
#                                       another command in /src instead
#
# debootstrap makes the chroot once, in /var/tmp/dovecot-haproxy-debian/
# SUITE (or $DEBIAN_CHROOTS/SUITE), from Debian's archive; later runs reuse
# it. The work tree as it is now, committed or not, is copied to its /src.
# The chroot runs in a PID and mount namespace of its own: its tests see
# only their own processes, and nothing stays mounted afterwards.
set -eu
cd "$(dirname "$0")/.."
suite=$1
shift
[ $# -gt 0 ] || set -- scripts/check.sh
root=${DEBIAN_CHROOTS:-/var/tmp/dovecot-haproxy-debian}/$suite

DEPS_EXTRA=debootstrap scripts/deps.sh
if [ ! -x "$root/bin/sh" ]; then
	echo "debian-check.sh: debootstrap $suite into $root"
	rm -rf "$root.new"
	mkdir -p "$(dirname "$root")"
	debootstrap --variant=minbase "$suite" "$root.new" \
		http://deb.debian.org/debian >"$root.log" 2>&1 ||
		{ tail -n 20 "$root.log"; exit 1; }
	mv "$root.new" "$root"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
rm -rf "$root/src"
mkdir "$root/src"
git ls-files -z --cached --others --exclude-standard |
	xargs -0 tar -cf - | tar -C "$root/src" -xf -

echo "debian-check.sh: $* on Debian $(cat "$root/etc/debian_version")"
# The chroot's root a mount point of its own: the tests make mount
# namespaces of their own (unshare --propagation private), which fails on a
# root that is only a directory.
exec unshare --pid --fork --mount --propagation private sh -ec '
	mount --bind "$1" "$1"
	mount -t proc proc "$1/proc"
	mount --rbind /dev "$1/dev"
	root=$1
	shift
	exec chroot "$root" sh -c "cd /src && exec \"\$@\"" sh "$@"
' sh "$root" "$@"
