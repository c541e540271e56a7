#!/usr/bin/env python3
"""Every manual page under src/ formats without a warning, both from groff
itself and from man as lintian runs it on an installed page.

README: "Troubleshooting" and "The test client" (the manual pages).
"""

import glob
import os
import shutil
import subprocess

import tap

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
FORMATTERS = {
    "groff": ["groff", "-ww", "-man", "-Tutf8", "-z"],
    "man": ["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z"],
}


def main():
    with tap.Tap() as t:
        missing = [f for f in FORMATTERS if not shutil.which(f)]
        if missing:
            t.skip_all("not installed: " + ", ".join(missing) +
                       " (Debian: groff-base, man-db)")
        pages = sorted(glob.glob(os.path.join(SRC, "*", "*.[1-9]")))
        names = [os.path.basename(p) for p in pages]
        t.ok({"haproxy-connect.1", "dovecot-haproxy.7"} <= set(names),
             "both manual pages are there", names)
        # man's width and locale, as lintian sets them, decide where
        # lines break and so whether groff has cause to warn.
        env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="",
                   MANWIDTH="80")
        for page, name in zip(pages, names):
            for formatter, argv in FORMATTERS.items():
                run = subprocess.run(argv + [page], env=env,
                                     capture_output=True, text=True)
                t.ok(run.returncode == 0 and run.stderr == "",
                     f"{formatter}: {name} formats without a warning",
                     run.stderr)


if __name__ == "__main__":
    main()
