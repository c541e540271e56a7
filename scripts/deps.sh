#!/bin/sh
# Install the Debian 12 packages that building, testing and make bench need
# (valgrind counts instructions there), when missing; $DEPS_EXTRA names more
# for the caller.
set -eu

packages="build-essential autoconf automake libtool pkg-config
	dovecot-dev dovecot-core dovecot-imapd dovecot-pop3d
	dovecot-submissiond dovecot-managesieved haproxy
	libcmocka-dev libssl-dev openssl python3 curl
	clang libclang-rt-dev gcovr
	debhelper lintian groff-base man-db valgrind
	${DEPS_EXTRA:-}"

missing=
for pkg in $packages; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
# The tests run their own Dovecot and HAProxy; keep the packages' system
# services from starting and taking the mail ports.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod +x "$policy"
	trap 'rm -f "$policy"' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
# Another apt-get may hold the lock (two builds of Dovecot, a test that
# installs packages): wait for it instead of failing.
lock="-o DPkg::Lock::Timeout=600"
# shellcheck disable=SC2086
apt-get $lock update -qq
# shellcheck disable=SC2086
apt-get $lock install -y -qq --no-install-recommends $missing >/dev/null
