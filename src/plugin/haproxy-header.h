#ifndef HAPROXY_HEADER_H
#define HAPROXY_HEADER_H

struct proxy_header;
struct master_service_connection;
struct haproxy_facts;

/* Apply a complete, valid PROXY header to a connection: its endpoints and
   TLS facts into conn, everything else into facts (NULL for a header
   without TLVs). Returns FALSE with a
   stable *error_code_r and an *error_r sentence for a header that is valid
   protocol but cannot be used on a login listener. */
bool haproxy_header_apply(const struct proxy_header *hdr,
			  struct master_service_connection *conn,
			  struct haproxy_facts *facts, struct event *event,
			  const char **error_code_r, const char **error_r);

#endif
