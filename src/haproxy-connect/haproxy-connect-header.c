/* The bytes haproxy-connect sends first: a header encoded from the
   command line, or a file sent as it is. */

#include "haproxy-connect-header.h"
#include "haproxy-connect-address.h"
#include "haproxy-connect.h"
#include "proxy-encoder.h"

#include <err.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* More than any header; --raw is for headers, not for bulk data. */
#define RAW_MAX_SIZE (1024 * 1024)

/* --ssl-cert FILE as DER, whether FILE is PEM or DER. */
static unsigned char *read_cert_der(const char *path, size_t *size_r)
{
	unsigned char *der = NULL;
	X509 *cert;
	BIO *bio;
	int size;

	bio = BIO_new_file(path, "rb");
	if (bio == NULL)
		err(HC_EXIT_ERROR, "--ssl-cert: %s", path);
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (cert == NULL && BIO_reset(bio) == 0)
		cert = d2i_X509_bio(bio, NULL);
	BIO_free(bio);
	if (cert == NULL)
		errx(HC_EXIT_USAGE, "--ssl-cert: %s: not a PEM or DER certificate",
		     path);
	ERR_clear_error();
	size = i2d_X509(cert, &der);
	X509_free(cert);
	if (size <= 0)
		errx(HC_EXIT_ERROR, "--ssl-cert: %s: cannot convert to DER", path);
	*size_r = (size_t)size;
	return der;
}

/* 127.0.0.1:0, where there is no connection to take an address from. */
static const struct sockaddr_storage *placeholder(void)
{
	static struct sockaddr_storage addr;
	const struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	memcpy(&addr, &sin, sizeof(sin));
	return &addr;
}

/* Family and endpoints: --src and --dst, else the connection's. */
static void
set_endpoints(const struct hc_options *opts,
	      const struct sockaddr_storage *local,
	      const struct sockaddr_storage *peer, struct proxy_header *hdr)
{
	const struct sockaddr_storage *src, *dst;
	const char *error;

	if (hdr->command == PROXY_CMD_LOCAL && !opts->src_set &&
	    !opts->dst_set) {
		/* As HAProxy sends it: no address at all. */
		hdr->family = PROXY_AF_UNSPEC;
		if (hdr->transport == PROXY_TRANSPORT_STREAM)
			hdr->transport = PROXY_TRANSPORT_UNSPEC;
		return;
	}
	src = opts->src_set ? &opts->src : local != NULL ? local : placeholder();
	dst = opts->dst_set ? &opts->dst : peer != NULL ? peer : placeholder();
	if (!hc_address_to_header(src, dst, hdr, &error))
		errx(HC_EXIT_USAGE, "--src, --dst: %s", error);
}

unsigned char *
hc_header_encode(const struct hc_options *opts,
		 const struct sockaddr_storage *local,
		 const struct sockaddr_storage *peer, size_t *size_r)
{
	struct proxy_header hdr = opts->header;
	unsigned char *cert = NULL, *buf;
	const char *error;
	size_t size;

	set_endpoints(opts, local, peer, &hdr);
	if (opts->ssl_cert_path != NULL) {
		cert = read_cert_der(opts->ssl_cert_path,
				     &hdr.ssl.client_cert.size);
		hdr.ssl.client_cert.data = cert;
	}
	size = proxy_encode(&hdr, opts->tlvs, opts->tlv_count, NULL, 0, &error);
	if (size == 0)
		errx(HC_EXIT_USAGE, "cannot encode the header: %s", error);
	buf = malloc(size);
	if (buf == NULL)
		err(HC_EXIT_ERROR, "malloc");
	if (proxy_encode(&hdr, opts->tlvs, opts->tlv_count, buf, size,
			 &error) != size)
		errx(HC_EXIT_ERROR, "header changed size between two encodings");
	OPENSSL_free(cert);
	*size_r = size;
	return buf;
}

unsigned char *hc_header_read_raw(const char *path, size_t *size_r)
{
	unsigned char *buf;
	size_t size;
	FILE *file;

	file = fopen(path, "rb");
	if (file == NULL)
		err(HC_EXIT_ERROR, "--raw: %s", path);
	/* One byte more than allowed tells a file that is too large. */
	buf = malloc(RAW_MAX_SIZE + 1);
	if (buf == NULL)
		err(HC_EXIT_ERROR, "malloc");
	size = fread(buf, 1, RAW_MAX_SIZE + 1, file);
	if (ferror(file))
		err(HC_EXIT_ERROR, "--raw: %s", path);
	if (size > RAW_MAX_SIZE)
		errx(HC_EXIT_USAGE, "--raw: %s: larger than %d bytes", path,
		     RAW_MAX_SIZE);
	fclose(file);
	*size_r = size;
	return buf;
}
