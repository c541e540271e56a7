/* haproxy-connect: connect to a server, send one PROXY protocol header,
   then relay standard input and output like nc. Made for testing servers
   behind HAProxy by hand and from scripts, including with hostile input:
   split or delayed headers, raw bytes. See haproxy-connect(1). */

#include "haproxy-connect.h"
#include "haproxy-connect-header.h"
#include "haproxy-connect-net.h"
#include "haproxy-connect-options.h"
#include "haproxy-connect-relay.h"
#include "haproxy-connect-stream.h"
#include "haproxy-connect-tls.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/socket.h>

static unsigned char *
header_bytes(const struct hc_options *opts,
	     const struct sockaddr_storage *local,
	     const struct sockaddr_storage *peer, size_t *size_r)
{
	if (opts->raw_path != NULL)
		return hc_header_read_raw(opts->raw_path, size_r);
	return hc_header_encode(opts, local, peer, size_r);
}

static void print_header(const struct hc_options *opts)
{
	size_t size;
	unsigned char *header = header_bytes(opts, NULL, NULL, &size);

	if (fwrite(header, 1, size, stdout) != size || fflush(stdout) != 0)
		err(HC_EXIT_ERROR, "write to standard output");
	free(header);
}

static void
connection_addresses(int fd, struct sockaddr_storage *local_r,
		     struct sockaddr_storage *peer_r)
{
	socklen_t length = sizeof(*local_r);

	if (getsockname(fd, (struct sockaddr *)local_r, &length) < 0)
		err(HC_EXIT_ERROR, "getsockname");
	length = sizeof(*peer_r);
	if (getpeername(fd, (struct sockaddr *)peer_r, &length) < 0)
		err(HC_EXIT_ERROR, "getpeername");
}

int main(int argc, char *argv[])
{
	struct sockaddr_storage local, peer;
	struct hc_options opts;
	struct hc_stream stream = { .fd = -1 };
	unsigned char *header;
	enum hc_exit status;
	bool takes_data;
	size_t size;

	hc_options_parse(argc, argv, &opts);
	if (opts.print_header) {
		print_header(&opts);
		hc_options_free(&opts);
		return 0;
	}
	/* Writes to a closed standard output fail with EPIPE instead. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err(HC_EXIT_ERROR, "signal");

	/* A header the options cannot make is a usage error: tell it
	   before connecting. The real one needs the connection's addresses. */
	free(header_bytes(&opts, NULL, NULL, &size));
	stream.fd = hc_net_connect(&opts);
	connection_addresses(stream.fd, &local, &peer);
	header = header_bytes(&opts, &local, &peer, &size);
	takes_data = hc_net_send(stream.fd, header, size, &opts);
	free(header);

	if (opts.tls && takes_data)
		stream.ssl = hc_tls_start(stream.fd, &opts);
	status = hc_relay(&stream, takes_data, opts.shutdown, opts.timeout_ms);
	hc_stream_close(&stream);
	hc_options_free(&opts);
	return status;
}
