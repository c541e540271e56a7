#ifndef HAPROXY_EVENT_H
#define HAPROXY_EVENT_H

struct master_service_connection;

/* Every PROXY header ends in one event of this name, with a "result"
   field (accepted, rejected, untrusted, timeout, disconnected) and, unless
   accepted, "error_code" and "error". */
#define HAPROXY_EVENT_FINISHED "haproxy_header_finished"

extern struct event_category event_category_haproxy;

/* An event for a new connection on a haproxy listener: the peer's and our
   endpoints and the listener name, log prefix "haproxy: ". */
struct event *haproxy_event_create(const struct master_service_connection *conn);

/* The finished event with its result, to be logged once. */
struct event_passthrough *
haproxy_event_finished(struct event *event, const char *result);

/* Bytes that came off the wire, safe for a log line: printable ASCII as is,
   everything else as \xNN, cut after max bytes with "...". */
const char *haproxy_escape(const void *data, size_t size, size_t max);

#endif
