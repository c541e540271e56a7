#ifndef HAPROXY_CLIENT_H
#define HAPROXY_CLIENT_H

/* What a PROXY header said beyond what struct master_service_connection
   can carry, kept for the login client that will be created on the same
   fd. The strings conn->proxy points at live here too, until the client
   has its own copies. */
struct haproxy_fact {
	const char *key, *value;
	/* Also a forward field: auth sees %{passdb:forward_<key>}, from the
	   header only (haproxy-forward.h). */
	bool forward;
};

struct haproxy_facts {
	struct haproxy_facts *prev, *next;
	pool_t pool;
	int fd;

	/* Event fields for the client, "haproxy_*". */
	ARRAY(struct haproxy_fact) fields;
	/* What conn->proxy.hostname and .cert_common_name point at. */
	const char *hostname;
	const char *cert_common_name;
};

struct haproxy_facts *haproxy_facts_new(int fd);
/* key and value must live as long as facts: static, or in facts->pool. */
void haproxy_facts_add(struct haproxy_facts *facts,
		       const char *key, const char *value);
/* A fact that auth sees too, as a forward field. */
void haproxy_facts_add_forward(struct haproxy_facts *facts,
			       const char *key, const char *value);
void haproxy_facts_free(struct haproxy_facts **facts);

/* Keep the facts until the client for their fd is allocated. */
void haproxy_facts_hand_off(struct haproxy_facts **facts);
/* A new connection got this fd: whatever was kept for it is stale. */
void haproxy_facts_forget(int fd);

struct module;

/* listener_is_ours(name) tells whether a client's listener is a haproxy
   one, whose clients' haproxy_* forward fields come from their header
   only (haproxy-forward.h). */
void haproxy_client_init(struct module *module,
			 bool (*listener_is_ours)(const char *name));
void haproxy_client_deinit(void);

#endif
