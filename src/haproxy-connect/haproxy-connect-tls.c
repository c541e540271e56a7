/* --tls: OpenSSL after the header, as a server with ssl = yes expects:
   the PROXY header in clear, then the ClientHello. */

#include "haproxy-connect-tls.h"
#include "haproxy-connect-net.h"
#include "haproxy-connect.h"

#include <arpa/inet.h>
#include <err.h>
#include <poll.h>
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

void hc_tls_fail(const char *what)
{
	unsigned long code = ERR_get_error();
	char reason[256];

	if (code == 0)
		errx(HC_EXIT_TLS, "%s failed", what);
	ERR_error_string_n(code, reason, sizeof(reason));
	errx(HC_EXIT_TLS, "%s failed: %s", what, reason);
}

static bool is_ip_address(const char *name)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, name, addr) == 1 ||
		inet_pton(AF_INET6, name, addr) == 1;
}

static SSL_CTX *context_new(const struct hc_options *opts)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		hc_tls_fail("SSL_CTX_new");
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
	/* A server that closes without close_notify has still closed. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
	if (opts->cert != NULL) {
		const char *key = opts->key != NULL ? opts->key : opts->cert;

		if (SSL_CTX_use_certificate_chain_file(ctx, opts->cert) != 1)
			hc_tls_fail(opts->cert);
		if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
			hc_tls_fail(key);
		if (SSL_CTX_check_private_key(ctx) != 1)
			hc_tls_fail("--key matching --cert");
	}
	if (opts->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (opts->ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, opts->ca, NULL) != 1)
			hc_tls_fail(opts->ca);
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		hc_tls_fail("loading the system's CA certificates");
	}
	return ctx;
}

/* SNI, and the name the certificate must match. */
static void set_server_name(SSL *ssl, const struct hc_options *opts)
{
	const char *name = opts->sni != NULL ? opts->sni : opts->host;
	bool ip = is_ip_address(name);

	/* SNI carries host names only (RFC 6066, section 3). */
	if (!ip && SSL_set_tlsext_host_name(ssl, name) != 1)
		hc_tls_fail("setting the server name");
	if (opts->insecure)
		return;
	if (ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) != 1 :
	    SSL_set1_host(ssl, name) != 1)
		hc_tls_fail("setting the name to verify");
}

static void __attribute__((noreturn)) handshake_failed(SSL *ssl)
{
	long verify = SSL_get_verify_result(ssl);

	if (BIO_number_read(SSL_get_rbio(ssl)) == 0)
		errx(HC_EXIT_CLOSED, "the server closed the connection before "
		     "sending anything (during the TLS handshake)");
	if (verify != X509_V_OK)
		errx(HC_EXIT_TLS, "TLS handshake failed: server certificate: %s",
		     X509_verify_cert_error_string(verify));
	hc_tls_fail("TLS handshake");
}

SSL *hc_tls_start(int fd, const struct hc_options *opts)
{
	SSL_CTX *ctx = context_new(opts);
	SSL *ssl = SSL_new(ctx);
	int ret;

	/* ssl holds its own reference. */
	SSL_CTX_free(ctx);
	if (ssl == NULL)
		hc_tls_fail("SSL_new");
	if (SSL_set_fd(ssl, fd) != 1)
		hc_tls_fail("SSL_set_fd");
	set_server_name(ssl, opts);

	while ((ret = SSL_connect(ssl)) != 1) {
		short events;

		switch (SSL_get_error(ssl, ret)) {
		case SSL_ERROR_WANT_READ:
			events = POLLIN;
			break;
		case SSL_ERROR_WANT_WRITE:
			events = POLLOUT;
			break;
		default:
			handshake_failed(ssl);
		}
		if (!hc_net_wait(fd, events, opts->timeout_ms))
			errx(HC_EXIT_TIMEOUT, "the TLS handshake timed out");
	}
	return ssl;
}
