/* Reads and writes on the server connection. A reset counts as the
   server closing: after a rejected header that is how a server that did
   not read everything closes, and the exit status is to tell it so. */

#include "haproxy-connect-stream.h"
#include "haproxy-connect-net.h"
#include "haproxy-connect-tls.h"
#include "haproxy-connect.h"

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

static int tls_size(size_t size)
{
	return size > INT_MAX ? INT_MAX : (int)size;
}

/* What an SSL_read() or SSL_write() that returned ret <= 0 means. */
static ssize_t tls_result(struct hc_stream *stream, int ret, const char *what)
{
	switch (SSL_get_error(stream->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return HC_STREAM_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		stream->want_out = true;
		return HC_STREAM_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		/* errno 0: EOF without close_notify, before OpenSSL 3. */
		if (errno == 0 || errno == ECONNRESET || errno == EPIPE)
			return 0;
		err(HC_EXIT_ERROR, "%s", what);
	default:
		hc_tls_fail(what);
	}
}

ssize_t hc_stream_read(struct hc_stream *stream, void *buf, size_t size)
{
	ssize_t ret;

	stream->want_out = false;
	if (stream->ssl != NULL) {
		int n;

		errno = 0;
		n = SSL_read(stream->ssl, buf, tls_size(size));

		return n > 0 ? n : tls_result(stream, n, "TLS read");
	}
	ret = read(stream->fd, buf, size);
	if (ret >= 0)
		return ret;
	if (errno == ECONNRESET)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return HC_STREAM_AGAIN;
	err(HC_EXIT_ERROR, "read from the server");
}

ssize_t hc_stream_write(struct hc_stream *stream, const void *data,
			size_t size)
{
	ssize_t ret;

	stream->want_out = false;
	if (stream->ssl != NULL) {
		int n;

		errno = 0;
		n = SSL_write(stream->ssl, data, tls_size(size));

		return n > 0 ? n : tls_result(stream, n, "TLS write");
	}
	ret = send(stream->fd, data, size, MSG_NOSIGNAL);
	if (ret >= 0)
		return ret;
	if (errno == EPIPE || errno == ECONNRESET)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return HC_STREAM_AGAIN;
	err(HC_EXIT_ERROR, "write to the server");
}

/* TLS 1.3 lets us send close_notify and still read the server's data. */
static void tls_close_notify(struct hc_stream *stream, int timeout_ms)
{
	for (;;) {
		int ret;

		errno = 0;
		ret = SSL_shutdown(stream->ssl);
		if (ret >= 0)
			return;
		/* Wait only for room to write: a call that reads would
		   throw away the server's data until its close_notify. */
		if (tls_result(stream, ret, "TLS shutdown") == 0 ||
		    !stream->want_out)
			return;
		if (!hc_net_wait(stream->fd, POLLOUT, timeout_ms))
			errx(HC_EXIT_TIMEOUT, "TLS shutdown timed out");
	}
}

void hc_stream_shutdown_write(struct hc_stream *stream, int timeout_ms)
{
	if (stream->ssl != NULL)
		tls_close_notify(stream, timeout_ms);
	if (shutdown(stream->fd, SHUT_WR) < 0 && errno != ENOTCONN)
		err(HC_EXIT_ERROR, "shutdown");
}

void hc_stream_close(struct hc_stream *stream)
{
	SSL_free(stream->ssl);
	stream->ssl = NULL;
	if (close(stream->fd) < 0)
		err(HC_EXIT_ERROR, "close");
	stream->fd = -1;
}
