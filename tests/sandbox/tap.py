#!/usr/bin/env python3
"""A tiny TAP producer: each test script is one automake TAP test.

    with tap.Tap() as t:
        t.ok(1 + 1 == 2, "addition works")
        with t.check("login through HAProxy"):
            assert client.login(...)

The plan is printed last ("1..N" after the results, which TAP allows), so
the count never has to be maintained by hand. An exception escaping the
`with` block becomes one more "not ok" with its traceback as diagnostics,
so the plan still matches the results and the failure is visible.
"""

import sys
import traceback


class Tap:
    def __init__(self, out=sys.stdout):
        self._out = out
        self._count = 0
        self._failed = 0
        self._done = False

    def _emit(self, line):
        print(line, file=self._out, flush=True)

    def diag(self, message):
        """Prints each line of message as a TAP comment."""
        for line in str(message).rstrip("\n").splitlines() or [""]:
            self._emit("# " + line)

    def ok(self, condition, description, diagnostic=None):
        """Reports one result, with diagnostic if it failed; returns
        condition."""
        self._count += 1
        status = "ok" if condition else "not ok"
        # An unescaped "#" would start a directive such as SKIP.
        description = description.replace("#", "\\#")
        self._emit(f"{status} {self._count} - {description}")
        if not condition:
            self._failed += 1
            if diagnostic is not None:
                self.diag(diagnostic)
        return bool(condition)

    def eq(self, got, expected, description):
        """ok() for an equality, showing both values when they differ."""
        return self.ok(got == expected, description,
                       f"got:      {got!r}\nexpected: {expected!r}")

    def skip(self, description, reason):
        self._count += 1
        self._emit(f"ok {self._count} - {description} # SKIP {reason}")

    def require(self, unmet):
        """Skips the whole script if unmet, the reason it cannot run, is
        set (see sandbox.unmet_requirements())."""
        if unmet:
            self.skip_all(unmet)

    def skip_all(self, reason):
        """Skips the whole script: call it before any result; it exits."""
        if self._count:
            raise RuntimeError("skip_all after results")
        self._emit(f"1..0 # SKIP {reason}")
        self._done = True
        sys.exit(0)

    def check(self, description):
        """A block that is one result: ok if it ends normally, not ok with
        the traceback if it raises (the script then goes on)."""
        return _Check(self, description)

    def done(self):
        """Prints the plan once; the exit status tells whether all passed."""
        if not self._done:
            self._emit(f"1..{self._count}")
            self._done = True
        return 1 if self._failed else 0

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is not None and not self._done:
            self.ok(False, f"no uncaught exception ({kind.__name__})",
                    "".join(traceback.format_exception(kind, value, tb)))
        # SystemExit and KeyboardInterrupt still propagate after the plan.
        status = self.done()
        if kind is None or issubclass(kind, Exception):
            sys.exit(status)
        return False


class _Check:
    def __init__(self, tap, description):
        self._tap = tap
        self._description = description

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self._tap.ok(True, self._description)
        elif issubclass(kind, Exception):
            self._tap.ok(False, self._description,
                         "".join(traceback.format_exception(kind, value, tb)))
        else:
            return False
        return True
