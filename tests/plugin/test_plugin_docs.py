#!/usr/bin/env python3
"""dovecot-haproxy(7) names what the plugin's code does: every setting it
reads, every result, error_code and diagnosis of its event, every event
field, the cloud endpoint IDs among them; and its TROUBLESHOOTING section
has the messages administrators meet.

README: "Logs and events" and "Troubleshooting" (man dovecot-haproxy
lists every message, field, result and error code).
"""

import glob
import os
import re

import tap

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "..", "..", "src")
PLUGIN = os.path.join(SRC, "plugin")
# (what an administrator meets, the text the section must hold for it)
TROUBLES = [
    ("an untrusted peer", "Peer not in haproxy_trusted_networks"),
    ("the empty list", "haproxy_trusted_networks is empty"),
    ("a timeout", "Timed out after"),
    ("a peer that sends no header", "Not a PROXY protocol header"),
    ("a TLS ClientHello instead of the header",
     "a TLS ClientHello came instead"),
    ("a client's command instead of the header", "command came instead"),
    ("an HTTP request instead of the header", "an HTTP request came instead"),
    ("a proxy that sends nothing", "nothing came"),
    ("an untrusted peer's PROXY header", "it sent a PROXY"),
    ("networks that never match", "never matches"),
    ("health checks", "check\\-send\\-proxy"),
    ("a plain TCP check", "Connection closed before sending a PROXY header"),
    ("an ABI mismatch", "Module is for different ABI version"),
    ("another version of the same ABI", "not for the running Dovecot"),
    ("version_ignore = yes", "cannot tell which Dovecot is running"),
    ("a plugin that is not installed", "Plugin 'haproxy' not found"),
    ("no login plugin installed", "opendir(/usr/lib/dovecot/modules/login)"),
    ("an invalid network", "haproxy_trusted_networks: Invalid network"),
    ("haproxy_timeout without unit", "is missing units"),
    ("plaintext auth refused", "Plaintext authentication disallowed"),
    ("Dovecot 2.4's login_plugins", "login_plugins { haproxy = yes }"),
]


def read(path):
    with open(path) as f:
        return f.read()


def plugin_sources():
    return "".join(read(p) for p in
                   sorted(glob.glob(os.path.join(PLUGIN, "*.c"))))


def calls(code, function):
    """The arguments, as text, of every call of function in code; its
    definition and prototypes, whose arguments have types, are none."""
    found = []
    for match in re.finditer(rf"(?<![\w.>]){function}\(", code):
        args, depth, start = [], 1, match.end()
        for i in range(match.end(), len(code)):
            depth += {"(": 1, ")": -1}.get(code[i], 0)
            if depth == 0 or (depth == 1 and code[i] == ","):
                args.append(" ".join(code[start:i].split()))
                start = i + 1
            if depth == 0:
                break
        if not re.match(r"(?:const |struct |enum )", args[0]):
            found.append(args)
    return found


def names(code, sources, derived):
    """The names that calls pass: sources are (function, index of the
    argument); a string literal there is a name, and derived maps
    (function, argument) to the names that argument stands for (a name
    passed on, or made elsewhere). Returns the names, and the calls whose
    argument is neither, which the test cannot read."""
    found, unread = set(), []
    for function, index in sources:
        for args in calls(code, function):
            arg = args[index]
            literal = re.fullmatch(r'"(\w+)"', arg)
            if literal:
                found.add(literal.group(1))
            elif (function, arg) in derived:
                found |= derived[function, arg]
            else:
                unread.append(f"{function}({', '.join(args)})")
    return found, unread


def decoder_error_names():
    """The decoder's error names, one for each value of enum proxy_error
    but NONE and COUNT; raises where the table and the enum differ."""
    lib = os.path.join(SRC, "lib-proxy-protocol")
    table = dict(re.findall(r'\[(PROXY_ERROR_\w+)\] = \{ "(\w+)"',
                            read(os.path.join(lib, "proxy-decoder.c"))))
    values = re.findall(r"^\s*(PROXY_ERROR_\w+)\b",
                        read(os.path.join(lib, "proxy-decoder.h")), re.M)
    values = [v for v in values if v not in ("PROXY_ERROR_NONE",
                                             "PROXY_ERROR_COUNT")]
    assert len(values) > 1 and sorted(values) == sorted(
        set(table) - {"PROXY_ERROR_NONE"}), (values, table)
    return {table[value] for value in values}


def code_error_codes(code):
    """The decoder's error names, and the codes the plugin passes along
    with a result or returns from applying a header; and the calls it
    could not read."""
    fail = (("haproxy_conn_fail", 3), ("haproxy_conn_fail_detail", 3))
    codes, unread = names(code, fail, {
        # Passed on by haproxy_conn_fail().
        ("haproxy_conn_fail_detail", "error_code"): set(),
        ("haproxy_conn_fail_detail", "proxy_error_name(error->error)"):
            decoder_error_names(),
        # What applying a header returned in *error_code_r, below.
        ("haproxy_conn_fail", "error_code"): set()})
    for value in re.findall(r"\*error_code_r = ([^;]+);", code):
        literal = re.fullmatch(r'"(\w+)"', value)
        if literal:
            codes.add(literal.group(1))
        else:
            unread.append(f"*error_code_r = {value}")
    return codes, unread


def code_results(code):
    """The results of haproxy_header_finished, and the calls the test
    could not read."""
    return names(code, (("haproxy_conn_fail", 2),
                        ("haproxy_conn_fail_detail", 2),
                        ("haproxy_event_finished", 3),
                        ("haproxy_conn_header_event", 1)), {
        # Passed on by haproxy_conn_fail() and the two event makers.
        ("haproxy_conn_fail_detail", "result"): set(),
        ("haproxy_event_finished", "result"): set()})


def code_fields(code):
    """Field names of the events: those of the connection's event, of the
    finished event, and the header's facts; and the calls the test could
    not read."""
    adders = ("event_add_str", "event_add_int", "event_add_ip",
              "haproxy_event_add_ip", "haproxy_facts_add",
              "haproxy_facts_add_forward", "facts_add_bytes")
    return names(code, [(adder, 1) for adder in adders], {
        # The facts, copied to the events: named where they are added.
        ("event_add_str", "fact->key"): set(),
        # Passed on by haproxy_event_add_ip() and facts_add_bytes().
        ("event_add_str", "key"): set(),
        ("event_add_ip", "key"): set(),
        ("haproxy_facts_add", "key"): set(),
        # facts_add_vendor(): haproxy_ and an endpoint ID's name.
        ("haproxy_facts_add_forward", 'p_strconcat(facts->pool, '
         '"haproxy_", proxy_vendor_id_name(vendor_r->id), NULL)'):
        vendor_fields(),
        # haproxy_tlv_0xNN
        ("haproxy_facts_add", 'p_haproxy_hex_byte(facts->pool, '
         '"haproxy_tlv_", tlv.type)'): {"haproxy_tlv_0x"}})


def diagnosis_tokens():
    """The tokens of the field diagnosis: what haproxy_diagnosis_token()
    returns."""
    code = read(os.path.join(PLUGIN, "haproxy-diagnosis.c"))
    body = code[code.index("haproxy_diagnosis_token("):]
    body = body[:body.index("\n}\n")]
    return set(re.findall(r'return "(\w+)";', body))


def vendor_fields():
    """The fields of the cloud load balancers' endpoint IDs: haproxy_ and
    each name in proxy-vendor.c."""
    code = read(os.path.join(SRC, "lib-proxy-protocol", "proxy-vendor.c"))
    return {"haproxy_" + name for name in
            re.findall(r'\[PROXY_VENDOR_\w+\] = \{\s*"(\w+)"', code)}


def man_item(man, tag):
    """The .TP item whose tag is .B tag, up to the next .TP; None if the
    page has none."""
    start = man.find(f".B {tag}\n")
    if start < 0:
        return None
    end = man.find(".TP", start)
    return man[start:end if end >= 0 else len(man)]


def man_section(man, title, level="SH"):
    start = man.index(f".{level} {title}\n")
    end = man.find(f".{level} ", start + 1)
    return man[start:end if end >= 0 else len(man)]


def man_tags(section):
    """The bold words of the .TP tags in section."""
    return set(re.findall(r"^\.TP\n\.B (\S+)$", section, re.M))


def main():
    with tap.Tap() as t:
        code = plugin_sources()
        man = read(os.path.join(PLUGIN, "dovecot-haproxy.7"))

        errors, unread = code_error_codes(code)
        t.eq(unread, [], "every error code in the code was read")
        t.eq(sorted(man_tags(man_section(man, "Error codes", "SS"))),
             sorted(errors), "the page lists exactly the error codes")

        results, unread = code_results(code)
        t.eq(unread, [], "every result in the code was read")
        t.eq(sorted(results), ["accepted", "direct", "disconnected",
                               "health_check", "rejected", "timeout",
                               "untrusted"],
             "the results were found")
        result_item = man[man.index(".B result\n"):]
        result_item = result_item[:result_item.index(".TP")]
        t.eq(sorted(set(re.findall(r"^\.B (\w+)$", result_item, re.M)) -
                    {"result"}), sorted(results),
             "the page's result field lists exactly the results")

        fields, unread = code_fields(code)
        t.eq(unread, [], "every event field in the code was read")
        t.eq(sorted(f for f in fields
                    if not re.search(rf"(?<!\w){f}(?!\w)", man)), [],
             "the page names every event field")

        tokens = diagnosis_tokens()
        t.eq(sorted(tokens), ["client_command", "http_request", "other",
                              "proxy_header", "silent", "tls_client_hello"],
             "the diagnosis tokens were found")
        item = man_item(man, "diagnosis")
        t.eq(sorted(set(re.findall(r"^\.B (\w+)$", item or "", re.M)) -
                    {"diagnosis"}), sorted(tokens),
             "the page's diagnosis field lists exactly the tokens")

        endpoints = vendor_fields()
        t.eq(sorted(endpoints), [
            "haproxy_alibaba_endpoint_id",
            "haproxy_alibaba_endpoint_service_id", "haproxy_alibaba_vpc_id",
            "haproxy_aws_vpce_id", "haproxy_azure_linkid",
            "haproxy_gcp_psc_connection_id"],
            "the endpoint ID fields were found")
        t.eq(sorted(f for f in endpoints
                    if not re.search(rf"(?<!\w){f}(?!\w)", man)), [],
             "the page names every endpoint ID field")

        settings = set(re.findall(r"set->(haproxy_\w+)", code))
        t.eq(sorted(settings), ["haproxy_direct_networks",
                                "haproxy_direct_wait", "haproxy_timeout",
                                "haproxy_trusted_networks"],
             "the settings the plugin reads were found")
        t.ok(settings <= man_tags(man_section(man, "SETTINGS")),
             "the page's SETTINGS describe each of them")

        troubles = man_section(man, "TROUBLESHOOTING")
        for what, text in TROUBLES:
            t.ok(text in troubles, f"TROUBLESHOOTING covers {what}")


if __name__ == "__main__":
    main()
