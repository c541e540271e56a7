#ifndef HAPROXY_EVENT_H
#define HAPROXY_EVENT_H

struct ip_addr;
struct master_service_connection;

/* Every connection on a haproxy listener ends in one event of this name,
   with a "result" field (accepted, health_check, direct, rejected,
   untrusted, timeout, disconnected) and, for the last four, "error_code"
   and "error". Its duration is the time from accept to the decision. */
#define HAPROXY_EVENT_FINISHED "haproxy_header_finished"

extern struct event_category event_category_haproxy;

/* The parent of a listener's events, made once: the service's event where
   Dovecot has one, category, listener name, log prefix "haproxy: ". */
struct event *haproxy_listener_event_create(const char *listener);

/* The finished event of a connection on the listener of listener_event,
   accepted at the time given, with its endpoints and result: to be
   logged once and unreferenced. */
struct event *
haproxy_event_finished(struct event *listener_event,
		       const struct master_service_connection *conn,
		       const struct timeval *accepted, const char *result);

/* An IP address as text, like net_ip2addr(). */
const char *haproxy_ip_str(const struct ip_addr *ip);

/* Bytes that came off the wire, safe for a log line: printable ASCII as is,
   everything else as \xNN, cut after max bytes with "...". */
const char *haproxy_escape(const void *data, size_t size, size_t max);

#endif
