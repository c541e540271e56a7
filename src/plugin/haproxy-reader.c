/* Reading a PROXY header off a connection's socket. */

/* POLLRDHUP */
#ifndef _GNU_SOURCE
#  define _GNU_SOURCE
#endif

#include "lib.h"
#include "buffer.h"
#include "haproxy-reader.h"

#include <poll.h>
#include <sys/socket.h>

/* Enough for a v1 line and a typical v2 header in one peek. */
#define HAPROXY_PEEK_SIZE 512

void haproxy_reader_init(struct haproxy_reader *reader, int fd)
{
	i_zero(reader);
	reader->fd = fd;
}

void haproxy_reader_deinit(struct haproxy_reader *reader)
{
	if (reader->header != NULL)
		buffer_free(&reader->header);
}

size_t haproxy_reader_received(const struct haproxy_reader *reader)
{
	return reader->header != NULL ? reader->header->used : reader->peeked;
}

static ssize_t haproxy_recv(int fd, void *buf, size_t size, int flags)
{
	ssize_t ret;

	do {
		ret = recv(fd, buf, size, flags);
	} while (ret < 0 && errno == EINTR);
	return ret;
}

/* What recv() returning ret <= 0 means. */
static enum haproxy_read_result
haproxy_recv_result(ssize_t ret, struct haproxy_read_error *error_r)
{
	if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return HAPROXY_READ_WAIT;
	if (ret == 0 || errno == ECONNRESET)
		return HAPROXY_READ_CLOSED;
	error_r->message = t_strdup_printf("recv() failed: %m");
	return HAPROXY_READ_FAILED;
}

/* The socket is readable from this many bytes on. */
static bool
haproxy_reader_set_lowat(struct haproxy_reader *reader, size_t bytes,
			 struct haproxy_read_error *error_r)
{
	int lowat = (int)bytes;

	if (setsockopt(reader->fd, SOL_SOCKET, SO_RCVLOWAT,
		       &lowat, sizeof(lowat)) < 0) {
		error_r->message = t_strdup_printf(
			"setsockopt(SO_RCVLOWAT, %d) failed: %m", lowat);
		return FALSE;
	}
	return TRUE;
}

/* Whether the peer has shut down its sending side (a FIN came), even
   with bytes still unread: recv() tells only once they are taken. */
static bool haproxy_reader_shut_down(struct haproxy_reader *reader)
{
	struct pollfd pfd = { .fd = reader->fd, .events = POLLRDHUP };

	return poll(&pfd, 1, 0) > 0 &&
		(pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/* Peek at the first bytes and compare them with the signatures. */
static enum haproxy_read_result
haproxy_reader_match(struct haproxy_reader *reader,
		     enum proxy_signature *sig_r,
		     struct haproxy_read_error *error_r)
{
	unsigned char data[PROXY_V2_SIGNATURE_LENGTH];
	ssize_t ret = haproxy_recv(reader->fd, data, sizeof(data), MSG_PEEK);

	if (ret <= 0)
		return haproxy_recv_result(ret, error_r);
	reader->peeked = (size_t)ret;
	*sig_r = proxy_signature_match(data, (size_t)ret);
	return HAPROXY_READ_COMPLETE;
}

enum haproxy_read_result
haproxy_reader_signature(struct haproxy_reader *reader,
			 enum proxy_signature *sig_r,
			 struct haproxy_read_error *error_r)
{
	bool raised = reader->peeked > 0;
	enum haproxy_read_result result =
		haproxy_reader_match(reader, sig_r, error_r);

	if (result != HAPROXY_READ_COMPLETE)
		return result;
	if (*sig_r == PROXY_SIGNATURE_PARTIAL &&
	    haproxy_reader_shut_down(reader)) {
		/* A half-closed socket is readable whatever SO_RCVLOWAT
		   says: the FIN must be noticed here, or the io fires on
		   every pass until haproxy_timeout. More bytes may have
		   come before it: a second peek sees all there will be. */
		result = haproxy_reader_match(reader, sig_r, error_r);
		if (result != HAPROXY_READ_COMPLETE)
			return result;
		if (*sig_r == PROXY_SIGNATURE_PARTIAL)
			return HAPROXY_READ_CLOSED;
	}
	if (*sig_r == PROXY_SIGNATURE_PARTIAL) {
		return haproxy_reader_set_lowat(reader, reader->peeked + 1,
						error_r) ?
			HAPROXY_READ_WAIT : HAPROXY_READ_FAILED;
	}
	reader->peeked = 0;
	if (raised && !haproxy_reader_set_lowat(reader, 1, error_r))
		return HAPROXY_READ_FAILED;
	return HAPROXY_READ_COMPLETE;
}

/* Take size bytes that were peeked into dest off the socket. */
static bool
haproxy_reader_take(struct haproxy_reader *reader, void *dest, size_t size,
		    struct haproxy_read_error *error_r)
{
	ssize_t ret = haproxy_recv(reader->fd, dest, size, 0);

	if (ret == (ssize_t)size)
		return TRUE;
	error_r->message = ret < 0 ?
		t_strdup_printf("recv() of %zu peeked bytes failed: %m", size) :
		t_strdup_printf("recv() returned %zd of %zu peeked bytes",
				ret, size);
	return FALSE;
}

/* Where the next peek goes: size bytes after the have bytes of header
   taken so far. The buffer grows to exactly what is asked: a v2 header's
   length is exact once known, and a dynamic buffer would double past it,
   holding 128 KiB for the largest header. */
static unsigned char *
haproxy_reader_space(struct haproxy_reader *reader, size_t have, size_t size)
{
	buffer_t *old = reader->header;

	if (buffer_get_writable_size(old) < have + size) {
		reader->header = buffer_create_dynamic(default_pool,
						       have + size);
		buffer_append(reader->header, old->data, have);
		buffer_free(&old);
	}
	return buffer_get_space_unsafe(reader->header, have, size);
}

enum haproxy_read_result
haproxy_reader_read(struct haproxy_reader *reader, struct proxy_header *hdr_r,
		    struct haproxy_read_error *error_r)
{
	size_t have = reader->header == NULL ? 0 : reader->header->used;

	for (;;) {
		/* What the decoder needs at least, and as much more as the
		   buffer holds: a v1 line shows its end only when it comes. */
		size_t room = have == 0 ? HAPROXY_PEEK_SIZE :
			I_MAX(reader->need,
			      buffer_get_writable_size(reader->header) - have);
		unsigned char *dest = have == 0 ? t_malloc_no0(room) :
			haproxy_reader_space(reader, have, room);
		const unsigned char *data = have == 0 ? dest :
			reader->header->data;
		ssize_t ret = haproxy_recv(reader->fd, dest, room, MSG_PEEK);

		if (have > 0)
			buffer_set_used_size(reader->header, have);
		if (ret <= 0)
			return haproxy_recv_result(ret, error_r);

		switch (proxy_decode(data, have + (size_t)ret, hdr_r,
				     &reader->need, &error_r->error)) {
		case PROXY_RESULT_INVALID:
			error_r->data = data;
			error_r->size = have + (size_t)ret;
			return HAPROXY_READ_INVALID;
		case PROXY_RESULT_COMPLETE:
			if (!haproxy_reader_take(reader, dest,
						 hdr_r->length - have, error_r))
				return HAPROXY_READ_FAILED;
			return HAPROXY_READ_COMPLETE;
		case PROXY_RESULT_NEED_MORE:
			/* All of it is header: take it and read on. */
			if (!haproxy_reader_take(reader, dest, (size_t)ret,
						 error_r))
				return HAPROXY_READ_FAILED;
			if (have == 0) {
				reader->header = buffer_create_dynamic(
					default_pool,
					I_MAX((size_t)ret + reader->need,
					      HAPROXY_PEEK_SIZE));
				buffer_append(reader->header, dest,
					      (size_t)ret);
			} else {
				buffer_set_used_size(reader->header,
						     have + (size_t)ret);
			}
			have += (size_t)ret;
			break;
		}
	}
}

size_t haproxy_reader_peek(struct haproxy_reader *reader, void *data,
			   size_t size)
{
	ssize_t ret = haproxy_recv(reader->fd, data, size,
				   MSG_PEEK | MSG_DONTWAIT);

	return ret < 0 ? 0 : (size_t)ret;
}

enum haproxy_read_result
haproxy_reader_after_header(struct haproxy_reader *reader,
			    struct haproxy_read_error *error_r)
{
	char c;
	ssize_t ret = haproxy_recv(reader->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return ret > 0 ? HAPROXY_READ_COMPLETE :
		haproxy_recv_result(ret, error_r);
}
