#ifndef HAPROXY_EVENT_H
#define HAPROXY_EVENT_H

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
   accepted at the time given, with its endpoints and result, and room for
   fields fields in all: to be logged once and unreferenced. */
struct event *
haproxy_event_finished(struct event *listener_event,
		       const struct master_service_connection *conn,
		       const struct timeval *accepted, const char *result,
		       unsigned int fields);

#endif
