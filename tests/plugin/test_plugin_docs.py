#!/usr/bin/env python3
"""dovecot-haproxy(7) names what the plugin's code does: every setting it
reads, every result, error_code and diagnosis of its event, every event
field, the cloud endpoint IDs among them; and its TROUBLESHOOTING section
has the messages administrators meet."""

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


def code_error_codes(code):
    """The decoder's error names, and the codes the plugin passes along
    with a result or returns from applying a header."""
    names = set(re.findall(r'\[PROXY_ERROR_\w+\] = \{ "(\w+)"',
                           read(os.path.join(SRC, "lib-proxy-protocol",
                                        "proxy-decoder.c"))))
    names.discard("none")
    names |= set(re.findall(r'haproxy_conn_fail(?:_detail)?\(hc, '
                            r'LOG_TYPE_\w+, "\w+",\s*"(\w+)"', code))
    names |= set(re.findall(r'\*error_code_r = "(\w+)"', code))
    return names


def code_results(code):
    return (set(re.findall(r'haproxy_conn_fail(?:_detail)?\(hc, '
                           r'LOG_TYPE_\w+, "(\w+)"', code)) |
            set(re.findall(r'haproxy_(?:event_finished|conn_header_event)'
                           r'\([^;"{]*,\s*"(\w+)"[,)]', code)))


def code_fields(code):
    """Field names of the events: those of the connection's event, of the
    finished event, and the header's facts."""
    fields = set(re.findall(r'event_add_(?:str|int|ip)\(event, "(\w+)"',
                            code))
    fields |= set(re.findall(r'add_(?:str|int|ip)\("(\w+)"', code))
    fields |= set(re.findall(r'(?:haproxy_facts_add(?:_forward)?|'
                             r'facts_add_bytes)\(facts,\s*"(\w+)"', code))
    # haproxy_tlv_0xNN
    fields |= {prefix + "0x" for prefix in
               re.findall(r'p_haproxy_hex_byte\([^,]+,\s*"(haproxy_tlv_)"',
                          code)}
    return fields


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

        errors = code_error_codes(code)
        t.ok(len(errors) > 20, "the error codes were found", sorted(errors))
        t.eq(sorted(man_tags(man_section(man, "Error codes", "SS"))),
             sorted(errors), "the page lists exactly the error codes")

        results = code_results(code)
        t.eq(sorted(results), ["accepted", "direct", "disconnected",
                               "health_check", "rejected", "timeout",
                               "untrusted"],
             "the results were found")
        result_item = man[man.index(".B result\n"):]
        result_item = result_item[:result_item.index(".TP")]
        t.eq(sorted(set(re.findall(r"^\.B (\w+)$", result_item, re.M)) -
                    {"result"}), sorted(results),
             "the page's result field lists exactly the results")

        fields = code_fields(code)
        t.ok(len(fields) > 25, "the event fields were found", sorted(fields))
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
