/* From a decoded PROXY header to what Dovecot knows about a connection. */

#include "login-common.h"
#include "array.h"
#include "sha2.h"
#include "hex-binary.h"
#include "haproxy-compat.h"
#include "proxy-decoder.h"
#include "proxy-vendor.h"
#include "haproxy-event.h"
#include "haproxy-text.h"
#include "haproxy-client.h"
#include "haproxy-header.h"

#include <netinet/in.h>

/* Longest value of an unknown TLV shown as a field, in bytes. */
#define HAPROXY_TLV_FIELD_MAX 128
/* Most TLVs of types the plugin does not interpret that become fields,
   the first of each type: every application and experimental type. */
#define HAPROXY_TLV_FIELDS_MAX 32
#define HAPROXY_HOSTNAME_MAX 255
/* Longest certificate CN taken as the certificate user name. Auth reads
   lines of at most 16384 bytes (AUTH_CLIENT_MAX_LINE_LENGTH, on both
   lines of Dovecot) and drops the login process's whole connection for a
   longer one, failing every login in flight there. Login-common's own
   parts of an AUTH line take up to about 9.5 KiB (an 8 KiB initial
   response, the client ID, addresses); what the header adds stays under
   2.5 KiB: the local name (HAPROXY_HOSTNAME_MAX), this, and the forward
   fields (UNIQUE_ID escaped, the endpoint IDs). X.509 itself bounds a CN
   at 64 characters. */
#define HAPROXY_CERT_CN_MAX 255

static void
endpoint_to_ip(enum proxy_family family, const struct proxy_endpoint *endpoint,
	       struct ip_addr *ip_r)
{
	i_zero(ip_r);
	if (family == PROXY_AF_INET6 &&
	    !IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)endpoint->addr)) {
		ip_r->family = AF_INET6;
		memcpy(&ip_r->u.ip6, endpoint->addr, sizeof(ip_r->u.ip6));
	} else {
		/* ::ffff:a.b.c.d is an IPv4 client, as Dovecot's own
		   accept() reports it. */
		ip_r->family = AF_INET;
		memcpy(&ip_r->u.ip4, family == PROXY_AF_INET ? endpoint->addr :
		       endpoint->addr + 12, sizeof(ip_r->u.ip4));
	}
}

/* A user name: not empty, no NUL (it would cut the string short) and no
   control characters. */
static bool bytes_are_user_name(const struct proxy_bytes *bytes)
{
	size_t i;

	if (bytes->size == 0)
		return FALSE;
	for (i = 0; i < bytes->size; i++) {
		if (bytes->data[i] < 0x20 || bytes->data[i] == 0x7f)
			return FALSE;
	}
	return TRUE;
}

/* A host name as Dovecot takes one for a TLS SNI name or a local name it
   proxies with (2.4's connection_is_valid_dns_name()): letters, digits,
   '.', '-', '_' and ':' (an IPv6 literal), no "..", at most 255 bytes.
   It selects local_name blocks and reaches auth as %{local_name}. */
static bool bytes_are_host_name(const struct proxy_bytes *bytes)
{
	size_t i;

	if (bytes->size == 0 || bytes->size > HAPROXY_HOSTNAME_MAX)
		return FALSE;
	for (i = 0; i < bytes->size; i++) {
		unsigned char c = bytes->data[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == ':')
			continue;
		if (c == '.' && (i == 0 || bytes->data[i - 1] != '.'))
			continue;
		return FALSE;
	}
	return TRUE;
}

static void
facts_add_bytes(struct haproxy_facts *facts, const char *key,
		const struct proxy_bytes *bytes)
{
	if (bytes->data != NULL) {
		haproxy_facts_add(facts, key, p_haproxy_escape(facts->pool,
			bytes->data, bytes->size,
			PROXY_TLV_UNIQUE_ID_MAX_LENGTH * 2));
	}
}

static const char *der_sha256(const struct proxy_bytes *der)
{
	unsigned char digest[SHA256_RESULTLEN];

	sha256_get_digest(der->data, der->size, digest);
	return binary_to_hex(digest, sizeof(digest));
}

static bool is_known_tlv(uint8_t type)
{
	switch (type) {
	case PROXY_TLV_ALPN:
	case PROXY_TLV_AUTHORITY:
	case PROXY_TLV_CRC32C:
	case PROXY_TLV_NOOP:
	case PROXY_TLV_UNIQUE_ID:
	case PROXY_TLV_SSL:
	case PROXY_TLV_NETNS:
		return TRUE;
	}
	return FALSE;
}

/* What the TLVs that the spec does not define have given so far. */
struct tlv_fields {
	/* The types with a field haproxy_tlv_0xNN, and how many. */
	bool type_shown[256];
	unsigned int shown;
	/* The endpoint IDs with a field. */
	bool vendor_shown[PROXY_VENDOR_ID_COUNT];
	/* The TLVs that got no field. */
	unsigned int skipped;
};

/* A cloud load balancer's endpoint ID, for logs, metrics and auth: TRUE
   for the first TLV of each ID. A malformed or repeated one is no reason
   to turn the client away: it is kept raw, and *why_r says why (NULL for
   a TLV of no vendor). */
static bool
facts_add_vendor(struct haproxy_facts *facts, struct tlv_fields *fields,
		 const struct proxy_tlv *tlv,
		 struct proxy_vendor_value *vendor_r, const char **why_r)
{
	*why_r = NULL;
	switch (proxy_vendor_decode(tlv, vendor_r, why_r)) {
	case 0:
		return FALSE;
	case 1:
		if (fields->vendor_shown[vendor_r->id]) {
			*why_r = "repeated";
			return FALSE;
		}
		fields->vendor_shown[vendor_r->id] = TRUE;
		haproxy_facts_add_forward(facts,
			p_strconcat(facts->pool, "haproxy_",
				    proxy_vendor_id_name(vendor_r->id), NULL),
			vendor_r->text.data == NULL ?
			p_strdup(facts->pool, dec2str(vendor_r->number)) :
			p_strndup(facts->pool, vendor_r->text.data,
				  vendor_r->text.size));
		return TRUE;
	}
	return FALSE;
}

/* Application, experimental and unknown TLVs: shown, not interpreted,
   but for the cloud load balancers' endpoint IDs. Only the first of each
   type becomes a field, and only HAPROXY_TLV_FIELDS_MAX of them: what a
   header of many small TLVs costs stays small. */
static void
facts_add_other_tlvs(struct haproxy_facts *facts,
		     const struct proxy_header *hdr, struct event *event)
{
	struct tlv_fields fields;
	struct proxy_vendor_value vendor;
	struct proxy_tlv_iter iter;
	struct proxy_tlv tlv;
	const char *why;

	i_zero(&fields);
	proxy_tlv_iter_init(&iter, &hdr->tlvs);
	while (proxy_tlv_iter_next(&iter, &tlv) > 0) {
		if (is_known_tlv(tlv.type) ||
		    facts_add_vendor(facts, &fields, &tlv, &vendor, &why))
			continue;
		if (fields.type_shown[tlv.type] ||
		    fields.shown == HAPROXY_TLV_FIELDS_MAX) {
			fields.skipped++;
			continue;
		}
		if (why != NULL) {
			e_debug(event, "Keeping TLV 0x%02x raw: %s %s", tlv.type,
				proxy_vendor_id_name(vendor.id), why);
		}
		fields.type_shown[tlv.type] = TRUE;
		fields.shown++;
		haproxy_facts_add(facts,
			p_haproxy_hex_byte(facts->pool, "haproxy_tlv_",
					   tlv.type),
			p_strdup(facts->pool, binary_to_hex(tlv.value.data,
				 I_MIN(tlv.value.size, HAPROXY_TLV_FIELD_MAX))));
	}
	if (fields.skipped > 0) {
		haproxy_facts_add(facts, "haproxy_tlv_skipped",
				  p_strdup(facts->pool,
					   dec2str(fields.skipped)));
	}
}

static void
facts_add_tlvs(struct haproxy_facts *facts, const struct proxy_header *hdr,
	       struct event *event)
{
	const struct proxy_ssl *ssl = &hdr->ssl;

	facts_add_bytes(facts, "haproxy_authority", &hdr->authority);
	facts_add_bytes(facts, "haproxy_alpn", &hdr->alpn);
	if (hdr->unique_id.data != NULL) {
		haproxy_facts_add_forward(facts, "haproxy_unique_id",
			p_haproxy_escape(facts->pool, hdr->unique_id.data,
					 hdr->unique_id.size,
					 PROXY_TLV_UNIQUE_ID_MAX_LENGTH));
	}
	facts_add_bytes(facts, "haproxy_netns", &hdr->netns);
	if (hdr->crc32c)
		haproxy_facts_add(facts, "haproxy_crc32c", "verified");
	if (ssl->present) {
		haproxy_facts_add(facts, "haproxy_ssl",
			(ssl->client & PROXY_SSL_CLIENT_SSL) != 0 ? "yes" : "no");
		haproxy_facts_add(facts, "haproxy_ssl_client",
				  p_haproxy_hex_byte(facts->pool, "",
						     ssl->client));
		haproxy_facts_add(facts, "haproxy_ssl_verify",
				  p_strdup(facts->pool, dec2str(ssl->verify)));
		facts_add_bytes(facts, "haproxy_ssl_version", &ssl->version);
		facts_add_bytes(facts, "haproxy_ssl_cn", &ssl->cn);
		facts_add_bytes(facts, "haproxy_ssl_cipher", &ssl->cipher);
		facts_add_bytes(facts, "haproxy_ssl_sig_alg", &ssl->sig_alg);
		facts_add_bytes(facts, "haproxy_ssl_key_alg", &ssl->key_alg);
		facts_add_bytes(facts, "haproxy_ssl_group", &ssl->group);
		facts_add_bytes(facts, "haproxy_ssl_sig_scheme",
				&ssl->sig_scheme);
		if (ssl->client_cert.data != NULL) {
			haproxy_facts_add(facts, "haproxy_ssl_client_cert_sha256",
					  p_strdup(facts->pool,
						   der_sha256(&ssl->client_cert)));
		}
	}
	facts_add_other_tlvs(facts, hdr, event);
}

/* The certificate CN may become the user name (auth_ssl_username_from_cert),
   so only a certificate the proxy verified counts. Dovecot's own parser
   takes the CN whatever the verify result says. */
static void
apply_ssl(const struct proxy_ssl *ssl, struct master_service_connection *conn,
	  struct haproxy_facts *facts, struct event *event)
{
	bool verified;

	if ((ssl->client & PROXY_SSL_CLIENT_SSL) == 0)
		return;
	CONN_PROXY(conn).ssl = TRUE;
	verified = (ssl->client & (PROXY_SSL_CLIENT_CERT_CONN |
				   PROXY_SSL_CLIENT_CERT_SESS)) != 0 &&
		ssl->verify == 0;
	CONN_PROXY(conn).ssl_client_cert = verified;

	if (ssl->cn.data == NULL)
		return;
	if (!verified) {
		e_debug(event, "Ignoring certificate CN '%s': %s",
			haproxy_escape(ssl->cn.data, ssl->cn.size, 64),
			(ssl->client & (PROXY_SSL_CLIENT_CERT_CONN |
					PROXY_SSL_CLIENT_CERT_SESS)) == 0 ?
			"no client certificate" :
			t_strdup_printf("verify failed (%u)", ssl->verify));
		return;
	}
	if (ssl->cn.size > HAPROXY_CERT_CN_MAX) {
		e_debug(event, "Ignoring certificate CN '%s': %zu bytes, "
			"longer than the %u of a user name",
			haproxy_escape(ssl->cn.data, ssl->cn.size, 64),
			ssl->cn.size, HAPROXY_CERT_CN_MAX);
		return;
	}
	if (!bytes_are_user_name(&ssl->cn)) {
		e_debug(event, "Ignoring certificate CN '%s': not a user name",
			haproxy_escape(ssl->cn.data, ssl->cn.size, 64));
		return;
	}
	facts->cert_common_name =
		p_strndup(facts->pool, ssl->cn.data, ssl->cn.size);
	CONN_PROXY(conn).cert_common_name = facts->cert_common_name;
}

static bool
apply_proxy(const struct proxy_header *hdr,
	    struct master_service_connection *conn,
	    struct haproxy_facts *facts, struct event *event,
	    const char **error_code_r, const char **error_r)
{
	if (hdr->authority.data != NULL) {
		if (!bytes_are_host_name(&hdr->authority)) {
			*error_code_r = "bad_authority";
			*error_r = t_strdup_printf(
				"AUTHORITY is not a host name: '%s'",
				haproxy_escape(hdr->authority.data,
					       hdr->authority.size, 64));
			return FALSE;
		}
		facts->hostname = p_strndup(facts->pool, hdr->authority.data,
					    hdr->authority.size);
		CONN_PROXY(conn).hostname = facts->hostname;
	}
	/* An empty ALPN names no protocol: Dovecot takes it for none (and
	   a pool refuses to allocate 0 bytes). */
	if (hdr->alpn.size > 0) {
		CONN_PROXY(conn).alpn = p_memdup(facts->pool, hdr->alpn.data,
						 hdr->alpn.size);
		CONN_PROXY(conn).alpn_size = hdr->alpn.size;
	}

	endpoint_to_ip(hdr->family, &hdr->src, &conn->remote_ip);
	endpoint_to_ip(hdr->family, &hdr->dst, &conn->local_ip);
	conn->remote_port = hdr->src.port;
	conn->local_port = hdr->dst.port;
	CONN_PROXIED(conn) = TRUE;
	/* No TLVs, no facts: AUTHORITY, ALPN and SSL above are TLVs. */
	if (facts == NULL)
		return TRUE;
	apply_ssl(&hdr->ssl, conn, facts, event);
	facts_add_tlvs(facts, hdr, event);
	return TRUE;
}

bool haproxy_header_apply(const struct proxy_header *hdr,
			  struct master_service_connection *conn,
			  struct haproxy_facts *facts, struct event *event,
			  const char **error_code_r, const char **error_r)
{
	/* LOCAL (health checks) and v1 UNKNOWN: the connection is the
	   proxy's own, so it keeps its endpoints and is not "proxied". */
	if (hdr->command == PROXY_CMD_LOCAL)
		return TRUE;

	if (hdr->transport == PROXY_TRANSPORT_DGRAM) {
		*error_code_r = "unsupported_transport";
		*error_r = "PROXY header is for a UDP connection";
		return FALSE;
	}
	switch (hdr->family) {
	case PROXY_AF_UNIX:
		*error_code_r = "unsupported_family";
		*error_r = "PROXY header is for an AF_UNIX connection";
		return FALSE;
	case PROXY_AF_UNSPEC:
		/* The spec's fallback: use the real endpoints. */
		return TRUE;
	case PROXY_AF_INET:
	case PROXY_AF_INET6:
		break;
	}
	if (hdr->transport == PROXY_TRANSPORT_UNSPEC)
		return TRUE;
	return apply_proxy(hdr, conn, facts, event, error_code_r, error_r);
}
