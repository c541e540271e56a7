#!/bin/sh
# Build one upstream Dovecot with Pigeonhole from the tarballs in
# ../shared/dovecot (scripts/dovecot-sources.sh finds it) and install it
# under a prefix of its own; print that prefix. A build is reused while the
# tarballs it was made from are unchanged: the prefix keeps their checksums.
#
#   scripts/dovecot-build.sh 2.4.4    ->  /opt/dovecot-haproxy/2.4.4
set -eu

version=$1
sources=$("$(dirname "$0")/dovecot-sources.sh")
root=${DOVECOT_BUILDS:-/opt/dovecot-haproxy}
prefix=$root/$version

case $version in
2.3.*)	pigeonhole=pigeonhole-0.5.${version#2.3.} ;;
*)	pigeonhole=pigeonhole-$version ;;
esac
core_tar=$sources/dovecot-$version.tar.xz
sieve_tar=$sources/$pigeonhole.tar.xz
for tar in "$core_tar" "$sieve_tar"; do
	[ -f "$tar" ] || { echo "dovecot-build.sh: $tar not found" >&2; exit 1; }
done

stamp=$(sha256sum "$core_tar" "$sieve_tar" | awk '{ print $1 }' | tr '\n' ' ')
# One build of a version at a time: matrix runs of several work trees may
# ask for the same one at once, and the second waits for the first.
mkdir -p "$root"
exec 9>"$root/.lock-$version"
flock 9
if [ -x "$prefix/sbin/dovecot" ] &&
   [ "$(cat "$prefix/.built-from" 2>/dev/null)" = "$stamp" ]; then
	echo "$prefix"
	exit 0
fi

# What the build needs beyond scripts/deps.sh. Both lines would download
# Unicode data; Debian's unicode-data has every file. Pigeonhole 2.4.1
# needs a Dovecot built with LDAP, so every version gets it.
DEPS_EXTRA="bison flex unicode-data gettext libldap-dev zlib1g-dev libssl-dev
	xz-utils bzip2" \
	"$(dirname "$0")/deps.sh" >&2

work=$(mktemp -d /var/tmp/dovecot-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
log=$work/build.log
echo "dovecot-build.sh: building Dovecot $version into $prefix (log: $log)" >&2
rm -rf "$prefix"
tar -C "$work" -xJf "$core_tar"
tar -C "$work" -xJf "$sieve_tar"
ucd=/usr/share/unicode
without="ldap sql pam gssapi lua stemmer textcat icu solr libunwind systemd
	sodium lz4 zstd bzlib"

# Runs a build step quietly; on failure shows the end of its log.
step() {
	if ! "$@" >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		echo "dovecot-build.sh: failed: $*" >&2
		exit 1
	fi
}

cd "$work/dovecot-$version"
# A release tarball (2.4.5) has configure and its own Unicode data, whose
# generated tables newer files than Debian's would not match: build it as
# it is. git archive trees (the others) need both made first.
if [ -x configure ]; then
	release=yes
else
	release=no
fi
case $version in
2.3.*)
	cp $ucd/UnicodeData.txt src/lib/
	cp $ucd/auxiliary/WordBreakProperty.txt $ucd/PropList.txt src/lib-fts/
	# autogen.sh would download a wiki export.
	cp /usr/share/gettext/config.rpath .
	cp doc/wiki/Makefile.am.in doc/wiki/Makefile.am
	step autoreconf -i
	flags="--without-docs --without-lucene --without-cassandra
		--without-lzma --with-ssl=openssl"
	sieve_flags="--without-docs"
	export PANDOC=false
	;;
*)
	if [ $release = yes ]; then
		:
	elif [ -d src/lib/ucd ]; then
		for f in CaseFolding.txt CompositionExclusions.txt \
			DerivedCoreProperties.txt DerivedNormalizationProps.txt \
			PropertyValueAliases.txt PropList.txt SpecialCasing.txt \
			UnicodeData.txt emoji/emoji-data.txt \
			auxiliary/GraphemeBreakProperty.txt \
			auxiliary/GraphemeBreakTest.txt \
			auxiliary/WordBreakProperty.txt; do
			cp $ucd/$f src/lib/ucd/
		done
		bzip2 -dc $ucd/NormalizationTest.txt.bz2 >src/lib/ucd/NormalizationTest.txt
	else
		cp $ucd/UnicodeData.txt src/lib/
		cp $ucd/auxiliary/WordBreakProperty.txt $ucd/PropList.txt \
			src/lib-language/
	fi
	[ $release = yes ] || step ./autogen.sh
	flags="--without-flatcurve --without-apparmor --without-pcre2"
	sieve_flags=
	;;
esac
for w in $without; do
	[ "$w" = ldap ] || flags="$flags --without-$w"
done
# shellcheck disable=SC2086
step ./configure --prefix="$prefix" --disable-static --with-ldap=yes $flags
step make -j"$(nproc)"
step make install

cd "$work/$pigeonhole"
[ -x configure ] ||
	step env ACLOCAL_PATH="$prefix/share/aclocal" ./autogen.sh
# Debian's +dfsg tarball (2.4.5) lacks doc/rfc, the RFCs' texts, which its
# configure and doc/Makefile.in still list: build without it.
if [ ! -d doc/rfc ] && grep -q ' doc/rfc/Makefile' configure; then
	sed -i 's| doc/rfc/Makefile||' configure
	sed -i '/^[[:space:]]*rfc \\$/d' doc/Makefile.in
fi
# shellcheck disable=SC2086
step ./configure --prefix="$prefix" --with-dovecot="$prefix/lib/dovecot" \
	--disable-static $sieve_flags
step make -j"$(nproc)"
step make install

echo "$stamp" >"$prefix/.built-from"
echo "$prefix"
