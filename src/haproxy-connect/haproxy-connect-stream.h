#ifndef HAPROXY_CONNECT_STREAM_H
#define HAPROXY_CONNECT_STREAM_H

#include <stdbool.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/* The connection to the server after the header, in clear or TLS, for
   the relay: non-blocking reads and writes that say when to retry. */
struct hc_stream {
	int fd;
	/* NULL: no TLS */
	SSL *ssl;
	/* The last operation can go on only once fd is writable (TLS may
	   need to write in order to read). */
	bool want_out;
};

/* Nothing can be done before fd is ready again. */
#define HC_STREAM_AGAIN (-1)

/* Bytes read, 0 once the server has closed (or reset) the connection, or
   HC_STREAM_AGAIN. Exits on other errors. */
ssize_t hc_stream_read(struct hc_stream *stream, void *buf, size_t size);
/* Bytes written, 0 if the server no longer takes data, or
   HC_STREAM_AGAIN. Exits on other errors. */
ssize_t hc_stream_write(struct hc_stream *stream, const void *data,
			size_t size);
/* End of our data; reading goes on. */
void hc_stream_shutdown_write(struct hc_stream *stream, int timeout_ms);
void hc_stream_close(struct hc_stream *stream);

#endif
