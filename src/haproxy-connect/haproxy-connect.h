#ifndef HAPROXY_CONNECT_H
#define HAPROXY_CONNECT_H

/* haproxy-connect: connect, send one PROXY protocol header, relay standard
   input and output. The exit status says what the server did, so that
   scripts and tests can tell a rejected header from a refused connection.
   --help and haproxy-connect.1 list the same codes. */
enum hc_exit {
	/* The server sent data. */
	HC_EXIT_ANSWERED = 0,
	/* Anything not below: name resolution, I/O, system errors. */
	HC_EXIT_ERROR = 1,
	/* Bad command line, or a header that cannot be encoded. */
	HC_EXIT_USAGE = 2,
	/* The server closed the connection before sending anything: what a
	   rejected PROXY header looks like. */
	HC_EXIT_CLOSED = 3,
	HC_EXIT_REFUSED = 4,
	/* Connecting, or waiting without traffic, took longer than --timeout. */
	HC_EXIT_TIMEOUT = 5,
	HC_EXIT_TLS = 6,
};

#endif
