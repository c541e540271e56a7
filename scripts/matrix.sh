#!/bin/sh
# Run the whole suite against Dovecot versions built from the upstream
# sources in ../shared/dovecot (scripts/dovecot-sources.sh finds it;
# scripts/dovecot-build.sh builds each once): every version found there, or
# the ones named.
#
#   scripts/matrix.sh            all of them
#   scripts/matrix.sh 2.4.4      one
#
# Each version gets its own copy of this tree in build/matrix/VERSION,
# configured with that Dovecot's dovecot.m4 and dovecot-config, and its own
# `make check`. Ends with a line per version and per test file.
set -eu
cd "$(dirname "$0")/.."
top=$PWD
if ! sources=$(scripts/dovecot-sources.sh); then
	echo "matrix.sh: skipping the other Dovecot versions"
	exit 0
fi
export DOVECOT_SOURCES="$sources"
if [ $# -eq 0 ]; then
	set -- $(ls "$sources" | sed -n 's/^dovecot-\(.*\)\.tar\.xz$/\1/p' | sort -V)
fi

status=0
for version; do
	prefix=$(scripts/dovecot-build.sh "$version")
	build=$top/build/matrix/$version
	echo "matrix.sh: Dovecot $version ($prefix) in $build"
	rm -rf "$build"
	mkdir -p "$build"
	# What is in the work tree now, committed or not; nothing built.
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 tar -cf - | tar -C "$build" -xf -
	(
		cd "$build"
		# The macros of the Dovecot under test, not the system's.
		ACLOCAL_PATH=$prefix/share/aclocal ./autogen.sh >autogen.log 2>&1 ||
			{ cat autogen.log; exit 1; }
		./configure --with-dovecot="$prefix/lib/dovecot" --enable-werror \
			>configure.log 2>&1 || { tail -n 30 configure.log; exit 1; }
		make -j"$(nproc)" >make.log 2>&1 || { cat make.log; exit 1; }
		make check
	) || status=1
done

for version; do
	scripts/tap-count.sh --files "build/matrix/$version" "Dovecot $version: "
done
exit "$status"
