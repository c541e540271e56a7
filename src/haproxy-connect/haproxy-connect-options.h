#ifndef HAPROXY_CONNECT_OPTIONS_H
#define HAPROXY_CONNECT_OPTIONS_H

#include <stdbool.h>
#include <sys/socket.h>

#include "proxy-decoder.h"

struct hc_options {
	/* Server to connect to; NULL with --print-header. */
	const char *host, *port;

	/* The header as the command line describes it. Its endpoints and
	   family are set once the connection's addresses are known. */
	struct proxy_header header;
	/* --src, --dst: override the connection's own addresses. */
	struct sockaddr_storage src, dst;
	bool src_set, dst_set;
	/* --tlv, in command line order. */
	struct proxy_tlv *tlvs;
	size_t tlv_count;
	/* --ssl-cert: read when the header is built. */
	const char *ssl_cert_path;

	/* --raw: sent instead of an encoded header. */
	const char *raw_path;
	/* --split offsets, increasing. */
	size_t *split;
	size_t split_count;
	unsigned int delay_ms;
	bool hexdump, print_header;

	/* --bind: a numeric local address to connect from. */
	const char *bind;
	/* -1: none */
	int timeout_ms;

	/* -N: shutdown(SHUT_WR) at the end of standard input. */
	bool shutdown;
	bool tls, insecure;
	const char *cert, *key, *ca, *sni;
};

/* Parse the command line into opts; exits with HC_EXIT_USAGE and a
   message on any error, or 0 after --help and --version. */
void hc_options_parse(int argc, char *argv[], struct hc_options *opts);
void hc_options_free(struct hc_options *opts);

#endif
