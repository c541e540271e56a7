#ifndef HAPROXY_DIAGNOSIS_H
#define HAPROXY_DIAGNOSIS_H

#include <stdbool.h>
#include <stddef.h>

#include "proxy-decoder.h"

/* What a peer sent where a PROXY header belonged, in the administrator's
   words: most problems behind a PROXY port are configuration mistakes on
   the other side, and the first bytes usually tell which. Plain C, so
   that it can be tested alone. */
enum haproxy_diagnosis {
	/* Bytes that say nothing in particular. */
	HAPROXY_DIAGNOSIS_OTHER,
	/* Nothing came at all. */
	HAPROXY_DIAGNOSIS_SILENT,
	/* A whole PROXY v1 or v2 signature. */
	HAPROXY_DIAGNOSIS_PROXY_HEADER,
	/* A TLS handshake record: a ClientHello. */
	HAPROXY_DIAGNOSIS_TLS_CLIENT_HELLO,
	/* An HTTP request line. */
	HAPROXY_DIAGNOSIS_HTTP_REQUEST,
	/* A command of the listener's protocol. */
	HAPROXY_DIAGNOSIS_CLIENT_COMMAND,
};

/* protocol is login-common's name of the listener's protocol: "imap",
   "pop3", "submission" or "sieve". */
enum haproxy_diagnosis
haproxy_diagnose(const unsigned char *data, size_t size, const char *protocol);

/* A stable token for events and metrics: "tls_client_hello", ... */
const char *haproxy_diagnosis_token(enum haproxy_diagnosis diagnosis);

/* What it is, as the subject of a sentence: "a TLS ClientHello", "an IMAP
   command"; NULL for OTHER and SILENT. */
const char *haproxy_diagnosis_what(enum haproxy_diagnosis diagnosis,
				   const unsigned char *data, size_t size,
				   const char *protocol);

/* The usual cause and its fix: for a peer that had to send a header
   (expected), or one that is not trusted; NULL if there is none. */
const char *haproxy_diagnosis_advice(enum haproxy_diagnosis diagnosis,
				     bool expected);

/* The usual cause and fix of a header the decoder rejected, where its
   error says more than that the header is wrong; NULL otherwise. */
const char *haproxy_error_advice(enum proxy_error error);

#endif
