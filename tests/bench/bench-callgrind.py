#!/usr/bin/env python3
"""Instructions per connection of the login process, counted by callgrind:
the figure to trust on a shared machine, where times drift by several per
cent between runs but instruction counts do not.

Two Dovecots, one with the plugin and one with its built-in parser, each
with one long-lived imap-login at a time, run under valgrind
--tool=callgrind and counting only inside io_loop_run(): what a process
does for its connections, not its start. For every mode a login process
serves WARMUP sessions and exits, then another serves WARMUP + SESSIONS;
the difference of their counts is what SESSIONS identical sessions
(connect, header, greeting, LOGOUT) cost. Prints instructions per session
and ratios; asserts nothing."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..",
                                "sandbox"))
from sandbox import (CLIENT_IP, PROXY_IP, HAProxy,  # noqa: E402
                     Sandbox, dovecot_under_test, plugin_dir)
from bench_sessions import SESSIONS, Counted, headers  # noqa: E402

def main():
    if plugin_dir() is None:
        sys.exit("bench-callgrind: HAPROXY_PLUGIN_DIR does not hold the "
                 "plugin")
    sent = headers()
    with Sandbox() as sb:
        ours = Counted(sb, "plugin", plugin_dir=plugin_dir(),
                       extra_config=f"haproxy_direct_networks = "
                                    f"{CLIENT_IP}\n")
        builtin = Counted(sb, "builtin")
        hap = HAProxy(sb)
        fronts = {}
        for counted in (ours, builtin):
            hap.backend(counted.name, [
                (counted.dovecot.listener("proxy"), "send-proxy-v2")])
            fronts[counted] = hap.frontend(counted.name, counted.name)
        with ours.dovecot, builtin.dovecot, hap:
            rows = {"direct": builtin.count(
                builtin.dovecot.listener("plain"), b"", PROXY_IP)}
            rows["direct, plugin loaded"] = ours.count(
                ours.dovecot.listener("plain"), b"", PROXY_IP)
            for name, data in sent.items():
                for label, counted in (("plugin", ours),
                                       ("built-in", builtin)):
                    rows[f"{label} {name}"] = counted.count(
                        counted.dovecot.listener("proxy"), data, PROXY_IP)
            for label, counted in (("plugin", ours), ("built-in", builtin)):
                rows[f"{label} via HAProxy"] = counted.count(
                    fronts[counted], b"", CLIENT_IP)
            rows["direct peer, haproxy listener"] = ours.count(
                ours.dovecot.listener("proxy"), b"", CLIENT_IP)
            rows["direct peer, plain listener"] = ours.count(
                ours.dovecot.listener("plain"), b"", CLIENT_IP)

    direct = rows["direct"]
    print(f"imap-login instructions per session (callgrind, {SESSIONS} "
          f"sessions per mode, Dovecot {dovecot_under_test().version})")
    print(f"  {'direct':30} {direct:10.0f}")
    for name in ["direct, plugin loaded"] + [
            f"{n}" for h in list(sent) + ["via HAProxy"]
            for n in (f"plugin {h}", f"built-in {h}")]:
        line = f"  {name:30} {rows[name]:10.0f}   x{rows[name] / direct:.3f} direct"
        if name.startswith("plugin "):
            theirs = rows["built-in " + name[len("plugin "):]]
            line += f"   x{rows[name] / theirs:.3f} built-in"
        print(line)
    plain = rows["direct peer, plain listener"]
    peer = rows["direct peer, haproxy listener"]
    print(f"  {'direct peer, plain listener':30} {plain:10.0f}")
    print(f"  {'direct peer, haproxy listener':30} {peer:10.0f}   "
          f"x{peer / plain:.3f} plain listener")


if __name__ == "__main__":
    main()
