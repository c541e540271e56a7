#!/usr/bin/env python3
"""haproxy-connect's code, --help and man page name the same options and
the same exit statuses.

README: "The test client" (man haproxy-connect has every option).
"""

import os
import re

import tap
from client_util import run_client

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "..", "..", "src", "haproxy-connect")
OPTION = re.compile(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*|-[A-Za-z0-9])(?![\w-])")


def read(name):
    with open(os.path.join(SRC, name)) as f:
        return f.read()


def code_options():
    """The long_options table and the short option string of getopt_long()."""
    source = read("haproxy-connect-options.c")
    table = source[source.index("long_options[] = {"):]
    table = table[:table.index("};")]
    names = re.findall(r'\{ "([a-z0-9-]+)",', table)
    options = {"--" + name for name in names}
    shorts = re.search(r'getopt_long\(argc, argv, "([^"]*)"', source).group(1)
    options |= {"-" + c for c in shorts if c != ":"}
    return options


def help_options(text):
    """Options in the first column of --help: the text of an indented line
    starting with a dash, up to two spaces."""
    options = set()
    for line in text.splitlines():
        match = re.match(r"\s+(-\S.*?)(?:\s{2,}|$)", line)
        if match:
            options |= set(OPTION.findall(match.group(1)))
    return options


def man_options(text):
    """Options in the tags of the man page's .TP paragraphs."""
    options = set()
    lines = text.splitlines()
    for tag, line in zip(lines, lines[1:]):
        if tag == ".TP":
            options |= set(OPTION.findall(line.replace("\\-", "-")))
    return options


def code_statuses():
    return {int(n) for n in re.findall(r"HC_EXIT_\w+ = (\d+),",
                                       read("haproxy-connect.h"))}


def help_statuses(text):
    section = text[text.index("Exit status:"):]
    return {int(n) for n in re.findall(r"^  (\d+)  \S", section, re.M)}


def man_statuses(text):
    section = text[text.index(".SH EXIT STATUS"):]
    section = section[:section.index(".SH", 1)]
    return {int(n) for n in re.findall(r"^\.TP\n\.B (\d+)$", section, re.M)}


def main():
    with tap.Tap() as t:
        result = run_client("--help")
        t.ok(result.returncode == 0 and result.stderr == b"",
             "--help exits 0, quietly", result.stderr)
        help_text = result.stdout.decode()
        man_text = read("haproxy-connect.1")

        code = code_options()
        t.ok(len(code) > 30, "the option table was found", sorted(code))
        t.eq(sorted(help_options(help_text)), sorted(code),
             "--help lists exactly the options of the code")
        t.eq(sorted(man_options(man_text)), sorted(code),
             "the man page lists exactly the options of the code")

        statuses = code_statuses()
        t.eq(sorted(statuses), list(range(7)), "exit statuses 0-6 in the code")
        t.eq(sorted(help_statuses(help_text)), sorted(statuses),
             "--help lists exactly the exit statuses of the code")
        t.eq(sorted(man_statuses(man_text)), sorted(statuses),
             "the man page lists exactly the exit statuses of the code")

        width = max(len(line) for line in help_text.splitlines())
        t.ok(width < 80, "--help fits in 80 columns", f"{width} columns")


if __name__ == "__main__":
    main()
