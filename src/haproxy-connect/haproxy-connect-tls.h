#ifndef HAPROXY_CONNECT_TLS_H
#define HAPROXY_CONNECT_TLS_H

#include <openssl/ssl.h>

#include "haproxy-connect-options.h"

/* TLS over the connected non-blocking fd, handshake done. The server is
   verified against --ca or the system's CAs, and its name against --sni or
   HOST, unless --insecure. Exits with HC_EXIT_TLS on failure,
   HC_EXIT_CLOSED if the server closed the connection without sending a
   byte, HC_EXIT_TIMEOUT after --timeout without progress. */
SSL *hc_tls_start(int fd, const struct hc_options *opts);

/* Print what failed, with OpenSSL's error queue, and exit HC_EXIT_TLS. */
void hc_tls_fail(const char *what) __attribute__((noreturn));

#endif
