/* Recognising what came instead of a PROXY header. */

#include "proxy-decoder.h"
#include "haproxy-diagnosis.h"

#include <string.h>
#include <strings.h>

/* A protocol's commands that a client may send before it has logged in,
   and their name in a sentence. */
struct haproxy_protocol {
	const char *protocol, *command;
	/* IMAP commands come after a tag. */
	bool tagged;
	const char *const *commands;
};

static const char *const imap_commands[] = {
	"CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "AUTHENTICATE", "LOGIN",
	"ID", "ENABLE", NULL
};
static const char *const pop3_commands[] = {
	"USER", "PASS", "APOP", "AUTH", "CAPA", "STLS", "QUIT", "NOOP",
	"UTF8", NULL
};
static const char *const smtp_commands[] = {
	"EHLO", "HELO", "LHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA",
	"QUIT", "NOOP", "RSET", "HELP", NULL
};
static const char *const managesieve_commands[] = {
	"CAPABILITY", "STARTTLS", "AUTHENTICATE", "LOGOUT", "NOOP", NULL
};

static const struct haproxy_protocol haproxy_protocols[] = {
	{ "imap", "an IMAP command", true, imap_commands },
	{ "pop3", "a POP3 command", false, pop3_commands },
	{ "submission", "an SMTP command", false, smtp_commands },
	{ "sieve", "a ManageSieve command", false, managesieve_commands },
};

static const char *const http_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "CONNECT",
	"TRACE", "PATCH", NULL
};

static const struct haproxy_protocol *haproxy_protocol_find(const char *protocol)
{
	size_t i;

	for (i = 0; i < sizeof(haproxy_protocols) /
			sizeof(haproxy_protocols[0]); i++) {
		if (strcmp(haproxy_protocols[i].protocol, protocol) == 0)
			return &haproxy_protocols[i];
	}
	return NULL;
}

/* Whether data, from offset on, starts with one of words followed by a
   space or the end of the line. */
static bool
starts_with_word(const unsigned char *data, size_t size, size_t offset,
		 const char *const *words)
{
	for (; *words != NULL; words++) {
		size_t len = strlen(*words);

		if (offset + len < size &&
		    strncasecmp((const char *)data + offset, *words, len) == 0 &&
		    (data[offset + len] == ' ' || data[offset + len] == '\r' ||
		     data[offset + len] == '\n'))
			return true;
	}
	return false;
}

/* The length of IMAP's tag and the space after it, 0 if there is none:
   RFC 3501's tag is one or more ASTRING-CHARs but '+'. */
static size_t imap_tag_length(const unsigned char *data, size_t size)
{
	size_t i;

	for (i = 0; i < size && data[i] > ' ' && data[i] < 0x7f; i++) {
		if (strchr("(){%*\"\\+", data[i]) != NULL)
			return 0;
	}
	return i > 0 && i < size && data[i] == ' ' ? i + 1 : 0;
}

static bool
is_command(const unsigned char *data, size_t size,
	   const struct haproxy_protocol *protocol)
{
	size_t offset = 0;

	if (protocol == NULL)
		return false;
	if (protocol->tagged && (offset = imap_tag_length(data, size)) == 0)
		return false;
	return starts_with_word(data, size, offset, protocol->commands);
}

/* A TLS record of type handshake (22) and version 3.x. */
static bool is_tls_client_hello(const unsigned char *data, size_t size)
{
	return data[0] == 0x16 && (size < 2 || data[1] == 0x03) &&
		(size < 3 || data[2] <= 0x04);
}

enum haproxy_diagnosis
haproxy_diagnose(const unsigned char *data, size_t size, const char *protocol)
{
	if (size == 0)
		return HAPROXY_DIAGNOSIS_SILENT;
	if (proxy_signature_match(data, size) == PROXY_SIGNATURE_FOUND)
		return HAPROXY_DIAGNOSIS_PROXY_HEADER;
	if (is_tls_client_hello(data, size))
		return HAPROXY_DIAGNOSIS_TLS_CLIENT_HELLO;
	if (starts_with_word(data, size, 0, http_methods))
		return HAPROXY_DIAGNOSIS_HTTP_REQUEST;
	if (is_command(data, size, haproxy_protocol_find(protocol)))
		return HAPROXY_DIAGNOSIS_CLIENT_COMMAND;
	return HAPROXY_DIAGNOSIS_OTHER;
}

const char *haproxy_diagnosis_token(enum haproxy_diagnosis diagnosis)
{
	switch (diagnosis) {
	case HAPROXY_DIAGNOSIS_OTHER:
		return "other";
	case HAPROXY_DIAGNOSIS_SILENT:
		return "silent";
	case HAPROXY_DIAGNOSIS_PROXY_HEADER:
		return "proxy_header";
	case HAPROXY_DIAGNOSIS_TLS_CLIENT_HELLO:
		return "tls_client_hello";
	case HAPROXY_DIAGNOSIS_HTTP_REQUEST:
		return "http_request";
	case HAPROXY_DIAGNOSIS_CLIENT_COMMAND:
		return "client_command";
	}
	return "other";
}

const char *haproxy_diagnosis_what(enum haproxy_diagnosis diagnosis,
				   const unsigned char *data, size_t size,
				   const char *protocol)
{
	const struct haproxy_protocol *proto;

	switch (diagnosis) {
	case HAPROXY_DIAGNOSIS_OTHER:
	case HAPROXY_DIAGNOSIS_SILENT:
		return NULL;
	case HAPROXY_DIAGNOSIS_PROXY_HEADER:
		return size > 0 && data[0] == 'P' ? "a PROXY v1 header" :
			"a PROXY v2 header";
	case HAPROXY_DIAGNOSIS_TLS_CLIENT_HELLO:
		return "a TLS ClientHello";
	case HAPROXY_DIAGNOSIS_HTTP_REQUEST:
		return "an HTTP request";
	case HAPROXY_DIAGNOSIS_CLIENT_COMMAND:
		proto = haproxy_protocol_find(protocol);
		return proto == NULL ? "a client's command" : proto->command;
	}
	return NULL;
}

const char *haproxy_diagnosis_advice(enum haproxy_diagnosis diagnosis,
				     bool expected)
{
	switch (diagnosis) {
	case HAPROXY_DIAGNOSIS_OTHER:
		return NULL;
	case HAPROXY_DIAGNOSIS_SILENT:
		/* IMAP, POP3, SMTP and ManageSieve clients wait for the
		   greeting: forwarded without a header, they say nothing. */
		return !expected ? NULL : "as from a proxy that sends no PROXY "
			"header (send-proxy-v2 on its server line)";
	case HAPROXY_DIAGNOSIS_PROXY_HEADER:
		return expected ? NULL : "if it is your proxy, add its address "
			"to haproxy_trusted_networks";
	case HAPROXY_DIAGNOSIS_TLS_CLIENT_HELLO:
	case HAPROXY_DIAGNOSIS_CLIENT_COMMAND:
		return expected ? "the proxy sends no PROXY header (send-proxy-v2 "
			"on its server line), or this client belongs in "
			"haproxy_direct_networks" :
			"a client, which belongs on a listener without "
			"haproxy = yes, or in haproxy_direct_networks";
	case HAPROXY_DIAGNOSIS_HTTP_REQUEST:
		return "an HTTP health check or web client: check this port "
			"with check-send-proxy in TCP mode";
	}
	return NULL;
}

const char *haproxy_error_advice(enum proxy_error error)
{
	switch (error) {
	case PROXY_ERROR_V1_MIXED_FAMILIES:
		return "the sender mixed address families, but both addresses "
			"must be of one family; nginx does so when its clients' "
			"addresses come from a PROXY header (nginx issue 1609): "
			"have it listen in their family, or send v2 "
			"(proxy_protocol v2)";
	default:
		return NULL;
	}
}
