/* The poll loop of haproxy-connect, as nc has it: one buffer each way, the
   server read whenever it has something, standard input read only when
   the previous block has gone out, so a slow server slows the input. */

#include "haproxy-connect-relay.h"

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#define RELAY_BUFFER_SIZE 16384

struct relay {
	struct hc_stream *stream;
	/* Read from standard input, not yet written to the server. */
	unsigned char pending[RELAY_BUFFER_SIZE];
	size_t pending_start, pending_end;
	bool stdin_open, server_takes_data;
	/* Half-close once standard input has ended and all of it is sent. */
	bool shutdown_at_eof;
	/* The last read from the server waits for fd to be writable. */
	bool read_wants_out;
	unsigned long long received;
};

static void write_stdout(const unsigned char *data, size_t size)
{
	while (size > 0) {
		ssize_t ret = write(STDOUT_FILENO, data, size);

		if (ret < 0) {
			if (errno == EINTR)
				continue;
			err(HC_EXIT_ERROR, "write to standard output");
		}
		data += ret;
		size -= (size_t)ret;
	}
}

static void read_stdin(struct relay *relay)
{
	ssize_t ret = read(STDIN_FILENO, relay->pending, sizeof(relay->pending));

	if (ret < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		err(HC_EXIT_ERROR, "read from standard input");
	}
	if (ret == 0)
		relay->stdin_open = false;
	relay->pending_start = 0;
	relay->pending_end = (size_t)ret;
}

/* Everything the server has sent so far; false once it has closed. */
static bool read_server(struct relay *relay)
{
	unsigned char buf[RELAY_BUFFER_SIZE];
	ssize_t ret;

	while ((ret = hc_stream_read(relay->stream, buf, sizeof(buf))) > 0) {
		write_stdout(buf, (size_t)ret);
		relay->received += (unsigned long long)ret;
	}
	relay->read_wants_out = relay->stream->want_out;
	return ret == HC_STREAM_AGAIN;
}

static void write_server(struct relay *relay)
{
	ssize_t ret;

	ret = hc_stream_write(relay->stream,
			      relay->pending + relay->pending_start,
			      relay->pending_end - relay->pending_start);
	if (ret == HC_STREAM_AGAIN)
		return;
	if (ret == 0) {
		/* The server no longer reads: drop what it would not take. */
		relay->server_takes_data = false;
		relay->pending_start = relay->pending_end;
		return;
	}
	relay->pending_start += (size_t)ret;
}

static bool has_pending(const struct relay *relay)
{
	return relay->pending_start < relay->pending_end;
}

enum hc_exit hc_relay(struct hc_stream *stream, bool takes_data,
		      bool shutdown_at_eof, int timeout_ms)
{
	struct relay relay = {
		.stream = stream,
		.stdin_open = true,
		.server_takes_data = takes_data,
		.shutdown_at_eof = shutdown_at_eof,
	};
	struct pollfd pfd[2];
	/* TLS may hold data that came with the end of the handshake: read
	   before waiting for the socket. */
	bool open = read_server(&relay);
	int ret;

	while (open) {
		if (relay.shutdown_at_eof && relay.server_takes_data &&
		    !relay.stdin_open && !has_pending(&relay)) {
			hc_stream_shutdown_write(stream, timeout_ms);
			relay.server_takes_data = false;
		}
		pfd[0].fd = relay.server_takes_data && relay.stdin_open &&
			!has_pending(&relay) ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = stream->fd;
		pfd[1].events = POLLIN;
		if (relay.read_wants_out ||
		    (relay.server_takes_data && has_pending(&relay)))
			pfd[1].events |= POLLOUT;

		ret = poll(pfd, 2, timeout_ms);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			err(HC_EXIT_ERROR, "poll");
		}
		if (ret == 0)
			errx(HC_EXIT_TIMEOUT, "timed out: no traffic for %g seconds",
			     timeout_ms / 1000.0);
		if (pfd[0].revents != 0)
			read_stdin(&relay);
		if (pfd[1].revents == 0)
			continue;
		open = read_server(&relay);
		if (open && relay.server_takes_data && has_pending(&relay))
			write_server(&relay);
	}
	if (relay.received == 0) {
		warnx("the server closed the connection before sending anything");
		return HC_EXIT_CLOSED;
	}
	return HC_EXIT_ANSWERED;
}
