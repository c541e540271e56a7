#ifndef HAPROXY_READER_H
#define HAPROXY_READER_H

#include "proxy-decoder.h"

/* The socket side of a PROXY header: peek, let the decoder decide, and
   take only the header's own bytes, so that what follows (an IMAP
   command, a TLS ClientHello) stays in the socket for login-common.
   Bytes of an incomplete header are taken as they arrive: they are all
   header, and leaving them queued would make the io fire again at
   once. */
struct haproxy_reader {
	int fd;
	/* The prefix of a signature seen by the last peek, left in the
	   socket. */
	size_t peeked;
	/* The header bytes taken so far, once there are any, and how many
	   more the decoder needs at least (exactly, for a v2 header). */
	buffer_t *header;
	size_t need;
};

enum haproxy_read_result {
	/* Nothing (more) to read now. */
	HAPROXY_READ_WAIT,
	/* A whole header, taken off the socket. */
	HAPROXY_READ_COMPLETE,
	/* Not a valid header. */
	HAPROXY_READ_INVALID,
	/* The peer closed or reset the connection. */
	HAPROXY_READ_CLOSED,
	/* recv() failed otherwise. */
	HAPROXY_READ_FAILED,
};

/* What a read that gave no header saw. */
struct haproxy_read_error {
	/* INVALID: the decoder's verdict on these bytes. */
	enum proxy_error error;
	const unsigned char *data;
	size_t size;
	/* FAILED: why. */
	const char *message;
};

void haproxy_reader_init(struct haproxy_reader *reader, int fd);
void haproxy_reader_deinit(struct haproxy_reader *reader);

/* How many bytes were received: taken as header or, before that, peeked
   at by haproxy_reader_peek_signature(). */
size_t haproxy_reader_received(const struct haproxy_reader *reader);

/* Compare what has arrived with the PROXY signatures, taking nothing:
   WAIT while nothing or a prefix of a signature has arrived, COMPLETE
   with *sig_r FOUND or NONE once the bytes decide, CLOSED once the peer
   has closed, or shut down its side after a prefix, or FAILED.
   While a prefix waits in the socket, the socket is readable only once
   more bytes have come (SO_RCVLOWAT), so that the io does not fire
   again and again for bytes that must stay; a decision undoes that. */
enum haproxy_read_result
haproxy_reader_signature(struct haproxy_reader *reader,
			 enum proxy_signature *sig_r,
			 struct haproxy_read_error *error_r);

/* Read on: the header is complete (*hdr_r, pointing into data stack
   memory or the reader), or not yet, or not a header. */
enum haproxy_read_result
haproxy_reader_read(struct haproxy_reader *reader, struct proxy_header *hdr_r,
		    struct haproxy_read_error *error_r);

/* Copy what has arrived, up to size bytes, without waiting and without
   taking it off the socket; returns how much. */
size_t haproxy_reader_peek(struct haproxy_reader *reader, void *data,
			   size_t size);

/* What followed a complete header so far, taking nothing: COMPLETE once
   a byte has come, WAIT while none has, or CLOSED or FAILED. */
enum haproxy_read_result
haproxy_reader_after_header(struct haproxy_reader *reader,
			    struct haproxy_read_error *error_r);

#endif
