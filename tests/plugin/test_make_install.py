#!/usr/bin/env python3
"""make install, with DESTDIR, puts each file where the Dovecot the tree was
built for looks for it: the plugin into its login_plugin_dir (as its
doveconf says), the settings module into the directory its config process
loads them from, and the example settings in its configuration syntax.
make uninstall takes them away again.

README: "Install" (from source: make install into the login plugin
directory of the Dovecot the tree was built against).
"""

import glob
import os
import shutil
import subprocess
import tempfile

from sandbox import (TIMEOUT, dovecot_under_test, settings_module_dir,
                     unmet_requirements)
from tap import Tap

SRCDIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      os.pardir, os.pardir)


def make(target, destdir):
    """make target in the build tree, outside the make that runs us."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "-C", os.environ["HAPROXY_BUILDDIR"],
                           target, f"DESTDIR={destdir}"], env=env,
                          capture_output=True, text=True,
                          timeout=20 * TIMEOUT)


def main(t, destdir):
    dut = dovecot_under_test()
    run = make("install", destdir)
    t.ok(run.returncode == 0, "make install DESTDIR=...", run.stderr)
    plugin = destdir + os.path.join(dut.login_plugin_dir,
                                    "lib20_haproxy_plugin.so")
    t.ok(os.path.isfile(plugin), f"the plugin is in Dovecot {dut.version}'s "
         f"login_plugin_dir {dut.login_plugin_dir}", plugin)
    module = destdir + os.path.join(settings_module_dir(),
                                    "libhaproxy_settings.so")
    t.ok(os.path.isfile(module), "the settings module is in "
         f"{settings_module_dir()}", module)
    examples = glob.glob(destdir + "/**/example-config/conf.d/30-haproxy.conf",
                         recursive=True)
    with open(os.path.join(SRCDIR, "conf.d", dut.syntax,
                           "30-haproxy.conf")) as f:
        ours = f.read()
    t.ok(len(examples) == 1 and open(examples[0]).read() == ours,
         f"the example settings in Dovecot {dut.syntax}'s syntax", examples)
    t.eq([path for path in glob.glob(destdir + "/**/*.la", recursive=True)],
         [], "no libtool .la file is installed")

    run = make("uninstall", destdir)
    t.ok(run.returncode == 0, "make uninstall DESTDIR=...", run.stderr)
    t.eq([path for path in (plugin, module, *examples)
          if os.path.exists(path)], [], "make uninstall removes them")


with Tap() as t:
    t.require(unmet_requirements(plugin=True)
              or (None if os.environ.get("HAPROXY_BUILDDIR") else
                  "HAPROXY_BUILDDIR is unset (make check sets it)"))
    destdir = tempfile.mkdtemp(prefix="dovecot-haproxy-destdir-")
    try:
        main(t, destdir)
    finally:
        shutil.rmtree(destdir)
