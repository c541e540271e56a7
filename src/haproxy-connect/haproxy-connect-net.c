/* Reaching the server and sending it the header, piece by piece when the
   header is to arrive split. */

#include "haproxy-connect-net.h"
#include "haproxy-connect-address.h"
#include "haproxy-connect-hexdump.h"
#include "haproxy-connect.h"

#include <err.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		err(HC_EXIT_ERROR, "clock_gettime");
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool hc_net_wait(int fd, short events, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	struct pollfd pfd = { .fd = fd, .events = events };
	int ret, left = timeout_ms;

	while ((ret = poll(&pfd, 1, left)) < 0) {
		if (errno != EINTR)
			err(HC_EXIT_ERROR, "poll");
		if (timeout_ms >= 0) {
			long long remaining = deadline - now_ms();

			left = remaining > 0 ? (int)remaining : 0;
		}
	}
	return ret > 0;
}

static enum hc_exit exit_status_of(int error)
{
	switch (error) {
	case ECONNREFUSED:
		return HC_EXIT_REFUSED;
	case ETIMEDOUT:
		return HC_EXIT_TIMEOUT;
	default:
		return HC_EXIT_ERROR;
	}
}

/* The --bind address, port 0. */
static struct addrinfo *resolve_bind(const char *bind)
{
	const struct addrinfo hints = {
		.ai_flags = AI_NUMERICHOST | AI_PASSIVE,
		.ai_socktype = SOCK_STREAM,
	};
	struct addrinfo *ai;
	int ret;

	ret = getaddrinfo(bind, NULL, &hints, &ai);
	if (ret != 0)
		errx(HC_EXIT_USAGE, "--bind: '%s': %s", bind, gai_strerror(ret));
	return ai;
}

/* Connect one socket to ai; returns it, or -1 with errno set. */
static int
connect_one(const struct addrinfo *ai, const struct addrinfo *local,
	    int timeout_ms)
{
	socklen_t length = sizeof(int);
	int fd, error = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (local != NULL && bind(fd, local->ai_addr, local->ai_addrlen) < 0)
		err(HC_EXIT_ERROR, "--bind %s", hc_address_str(local->ai_addr));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		error = errno;
		goto fail;
	}
	if (!hc_net_wait(fd, POLLOUT, timeout_ms)) {
		error = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0)
		error = errno;
	if (error == 0)
		return fd;
fail:
	close(fd);
	errno = error;
	return -1;
}

int hc_net_connect(const struct hc_options *opts)
{
	const struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *addrs, *ai, *local = NULL;
	enum hc_exit status = HC_EXIT_ERROR;
	bool tried = false;
	int ret, fd = -1;

	ret = getaddrinfo(opts->host, opts->port, &hints, &addrs);
	if (ret != 0)
		errx(HC_EXIT_ERROR, "%s port %s: %s", opts->host, opts->port,
		     gai_strerror(ret));
	if (opts->bind != NULL)
		local = resolve_bind(opts->bind);

	for (ai = addrs; ai != NULL && fd < 0; ai = ai->ai_next) {
		if (local != NULL && ai->ai_family != local->ai_family)
			continue;
		tried = true;
		fd = connect_one(ai, local, opts->timeout_ms);
		if (fd < 0) {
			status = exit_status_of(errno);
			warn("connect to %s", hc_address_str(ai->ai_addr));
		}
	}
	if (!tried)
		errx(HC_EXIT_USAGE, "%s has no address of the family of --bind %s",
		     opts->host, opts->bind);
	if (local != NULL)
		freeaddrinfo(local);
	freeaddrinfo(addrs);
	if (fd < 0)
		exit(status);
	return fd;
}

/* Returns false if the server has closed the connection. */
static bool
send_all(int fd, const unsigned char *data, size_t size, int timeout_ms)
{
	while (size > 0) {
		ssize_t ret = send(fd, data, size, MSG_NOSIGNAL);

		if (ret > 0) {
			data += ret;
			size -= (size_t)ret;
		} else if (errno == EPIPE || errno == ECONNRESET) {
			return false;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (!hc_net_wait(fd, POLLOUT, timeout_ms))
				errx(HC_EXIT_TIMEOUT, "sending the header timed out");
		} else if (errno != EINTR) {
			err(HC_EXIT_ERROR, "send");
		}
	}
	return true;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0) {
		if (errno != EINTR)
			err(HC_EXIT_ERROR, "nanosleep");
	}
}

bool hc_net_send(int fd, const unsigned char *data, size_t size,
		 const struct hc_options *opts)
{
	const int on = 1;
	size_t i, start = 0;

	if (opts->split_count > 0 && opts->split[opts->split_count - 1] >= size)
		errx(HC_EXIT_USAGE, "--split: offset %zu is not inside the "
		     "%zu bytes to send", opts->split[opts->split_count - 1], size);
	/* Each piece its own segment, not coalesced with the next. */
	if (opts->split_count > 0 &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) < 0)
		err(HC_EXIT_ERROR, "setsockopt(TCP_NODELAY)");

	for (i = 0; i <= opts->split_count; i++) {
		size_t end = i < opts->split_count ? opts->split[i] : size;

		if (!send_all(fd, data + start, end - start, opts->timeout_ms))
			return false;
		if (opts->hexdump) {
			fprintf(stderr, "haproxy-connect: sent %zu bytes at offset %zu\n",
				end - start, start);
			hc_hexdump(stderr, data + start, end - start, start);
		}
		if (i < opts->split_count && opts->delay_ms > 0)
			sleep_ms(opts->delay_ms);
		start = end;
	}
	return true;
}
