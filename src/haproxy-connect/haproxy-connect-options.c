/* The command line of haproxy-connect. Every option is checked here, so
   that a mistake is reported before anything is sent. The help text below
   and haproxy-connect.1 list the same options; tests/haproxy-connect/
   test_client_docs.py holds them to it. */

#include "haproxy-connect-options.h"
#include "proxy-vendor.h"
#include "haproxy-connect-address.h"
#include "haproxy-connect.h"

#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
"Usage: haproxy-connect [OPTION]... HOST PORT\n"
"       haproxy-connect --print-header [OPTION]...\n"
"Connect to HOST PORT, send one PROXY protocol header, then relay standard\n"
"input and output until the server closes the connection.\n"
"\n"
"Header:\n"
"  -1, -2                    protocol version (default: 2, or 1 with --unknown)\n"
"      --src ADDRESS:PORT    source in the header (default: the connection's)\n"
"      --dst ADDRESS:PORT    destination in the header (default: the server's)\n"
"                            ADDRESS: IPv4, [IPv6], or unix:PATH (v2 only)\n"
"      --local               v2 LOCAL command, no address unless --src/--dst\n"
"      --unknown             v1 \"PROXY UNKNOWN\"\n"
"      --dgram               v2 DGRAM transport instead of STREAM\n"
"\n"
"v2 TLVs, in HAProxy's order:\n"
"      --crc32c              CRC32C checksum of the header\n"
"      --alpn PROTOCOL       ALPN\n"
"      --authority NAME      AUTHORITY: the name the client asked for (SNI)\n"
"      --unique-id ID        UNIQUE_ID, at most 128 bytes\n"
"      --netns NAME          NETNS\n"
"      --tlv TYPE:HEX        any TLV as it is, after the others (repeatable):\n"
"                            TYPE 0-255 or 0x00-0xff, HEX its value\n"
"\n"
"v2 TLVs of cloud load balancers, naming the private endpoint (repeatable,\n"
"after the others):\n"
"      --aws-vpce-id ID      AWS PrivateLink VPC endpoint ID (0xEA)\n"
"      --azure-linkid N      Azure Private Link LINKID, 32 bits (0xEE)\n"
"      --gcp-psc-id N        Google Cloud Private Service Connect\n"
"                            connection ID, 64 bits (0xE0)\n"
"      --alibaba-vpc-id ID   Alibaba Cloud VPC ID (0xE1)\n"
"      --alibaba-endpoint-id ID\n"
"                            Alibaba Cloud endpoint ID (0xE1)\n"
"      --alibaba-endpoint-service-id ID\n"
"                            Alibaba Cloud endpoint service ID (0xE1)\n"
"\n"
"v2 SSL TLV, added by any of these options:\n"
"      --ssl                 the client connected over TLS (client bit SSL)\n"
"      --client-cert[=conn|sess]\n"
"                            the client presented a certificate on this\n"
"                            connection (conn, the default: CERT_CONN and\n"
"                            CERT_SESS) or earlier in its session (CERT_SESS)\n"
"      --ssl-verify N        verify result: 0 (the default) for success\n"
"      --ssl-version STRING  TLS version, e.g. TLSv1.3\n"
"      --ssl-cn STRING       client certificate's common name\n"
"      --ssl-cipher STRING   cipher name\n"
"      --ssl-sig-alg STRING  client certificate's signature algorithm\n"
"      --ssl-key-alg STRING  client certificate's key algorithm\n"
"      --ssl-group STRING    key exchange group\n"
"      --ssl-sig-scheme STRING\n"
"                            signature scheme\n"
"      --ssl-cert FILE       client certificate (PEM or DER) for CLIENT_CERT\n"
"\n"
"Sending:\n"
"      --raw FILE            send FILE as it is instead of a header\n"
"      --split N[,M...]      cut the header at these byte offsets into\n"
"                            separate send() calls\n"
"      --delay MS            wait MS milliseconds between the pieces\n"
"      --hexdump             print what was sent to standard error\n"
"      --print-header        write the header to standard output and exit;\n"
"                            --src and --dst default to 127.0.0.1:0\n"
"\n"
"Connection:\n"
"      --bind ADDRESS        connect from this numeric local address\n"
"      --timeout SECONDS     give up connecting, or waiting without traffic,\n"
"                            after SECONDS (default: never)\n"
"      --tls                 start TLS after the header\n"
"      --cert FILE           client certificate for TLS (PEM)\n"
"      --key FILE            its private key (default: in the --cert FILE)\n"
"      --ca FILE             CA certificates to verify the server with\n"
"                            (default: the system's)\n"
"      --insecure            do not verify the server's certificate\n"
"      --sni NAME            server name to send and verify (default: HOST)\n"
"  -N, --shutdown            shut down the sending side once standard input\n"
"                            ends (default: keep it open until the server\n"
"                            closes the connection)\n"
"\n"
"  -h, --help                show this help and exit\n"
"  -V, --version             show the version and exit\n"
"\n"
"Exit status:\n"
"  0  the server sent data\n"
"  1  any other error: name resolution, input/output, system\n"
"  2  bad command line, or a header that cannot be encoded\n"
"  3  the server closed the connection before sending anything\n"
"  4  connection refused\n"
"  5  timeout\n"
"  6  TLS failure\n";

enum {
	OPT_SRC = 256,
	OPT_DST,
	OPT_LOCAL,
	OPT_UNKNOWN,
	OPT_DGRAM,
	OPT_CRC32C,
	OPT_ALPN,
	OPT_AUTHORITY,
	OPT_UNIQUE_ID,
	OPT_NETNS,
	OPT_TLV,
	OPT_AWS_VPCE_ID,
	OPT_AZURE_LINKID,
	OPT_GCP_PSC_ID,
	OPT_ALIBABA_VPC_ID,
	OPT_ALIBABA_ENDPOINT_ID,
	OPT_ALIBABA_ENDPOINT_SERVICE_ID,
	OPT_SSL,
	OPT_CLIENT_CERT,
	OPT_SSL_VERIFY,
	OPT_SSL_VERSION,
	OPT_SSL_CN,
	OPT_SSL_CIPHER,
	OPT_SSL_SIG_ALG,
	OPT_SSL_KEY_ALG,
	OPT_SSL_GROUP,
	OPT_SSL_SIG_SCHEME,
	OPT_SSL_CERT,
	OPT_RAW,
	OPT_SPLIT,
	OPT_DELAY,
	OPT_HEXDUMP,
	OPT_PRINT_HEADER,
	OPT_BIND,
	OPT_TIMEOUT,
	OPT_TLS,
	OPT_CERT,
	OPT_KEY,
	OPT_CA,
	OPT_INSECURE,
	OPT_SNI,
};

static const struct option long_options[] = {
	{ "src", required_argument, NULL, OPT_SRC },
	{ "dst", required_argument, NULL, OPT_DST },
	{ "local", no_argument, NULL, OPT_LOCAL },
	{ "unknown", no_argument, NULL, OPT_UNKNOWN },
	{ "dgram", no_argument, NULL, OPT_DGRAM },
	{ "crc32c", no_argument, NULL, OPT_CRC32C },
	{ "alpn", required_argument, NULL, OPT_ALPN },
	{ "authority", required_argument, NULL, OPT_AUTHORITY },
	{ "unique-id", required_argument, NULL, OPT_UNIQUE_ID },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "tlv", required_argument, NULL, OPT_TLV },
	{ "aws-vpce-id", required_argument, NULL, OPT_AWS_VPCE_ID },
	{ "azure-linkid", required_argument, NULL, OPT_AZURE_LINKID },
	{ "gcp-psc-id", required_argument, NULL, OPT_GCP_PSC_ID },
	{ "alibaba-vpc-id", required_argument, NULL, OPT_ALIBABA_VPC_ID },
	{ "alibaba-endpoint-id", required_argument, NULL,
	  OPT_ALIBABA_ENDPOINT_ID },
	{ "alibaba-endpoint-service-id", required_argument, NULL,
	  OPT_ALIBABA_ENDPOINT_SERVICE_ID },
	{ "ssl", no_argument, NULL, OPT_SSL },
	{ "client-cert", optional_argument, NULL, OPT_CLIENT_CERT },
	{ "ssl-verify", required_argument, NULL, OPT_SSL_VERIFY },
	{ "ssl-version", required_argument, NULL, OPT_SSL_VERSION },
	{ "ssl-cn", required_argument, NULL, OPT_SSL_CN },
	{ "ssl-cipher", required_argument, NULL, OPT_SSL_CIPHER },
	{ "ssl-sig-alg", required_argument, NULL, OPT_SSL_SIG_ALG },
	{ "ssl-key-alg", required_argument, NULL, OPT_SSL_KEY_ALG },
	{ "ssl-group", required_argument, NULL, OPT_SSL_GROUP },
	{ "ssl-sig-scheme", required_argument, NULL, OPT_SSL_SIG_SCHEME },
	{ "ssl-cert", required_argument, NULL, OPT_SSL_CERT },
	{ "raw", required_argument, NULL, OPT_RAW },
	{ "split", required_argument, NULL, OPT_SPLIT },
	{ "delay", required_argument, NULL, OPT_DELAY },
	{ "hexdump", no_argument, NULL, OPT_HEXDUMP },
	{ "print-header", no_argument, NULL, OPT_PRINT_HEADER },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "tls", no_argument, NULL, OPT_TLS },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "sni", required_argument, NULL, OPT_SNI },
	{ "shutdown", no_argument, NULL, 'N' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* What the options said that only the checks at the end need. */
struct parse_state {
	/* -1 or -2 given */
	unsigned int version;
	bool local, unknown, dgram;
	/* Any option that shapes the header, which --raw replaces. */
	bool header_given;
};

static void __attribute__((noreturn)) usage_error(void)
{
	fprintf(stderr, "Try 'haproxy-connect --help' for more information.\n");
	exit(HC_EXIT_USAGE);
}

static struct proxy_bytes string_bytes(const char *str)
{
	return (struct proxy_bytes){ (const unsigned char *)str, strlen(str) };
}

/* A decimal number 0..max, nothing else. */
static unsigned long
parse_number(const char *option, const char *str, unsigned long max)
{
	unsigned long value;
	char *end;

	errno = 0;
	value = strtoul(str, &end, 10);
	if (str[0] < '0' || str[0] > '9' || *end != '\0' || errno != 0 ||
	    value > max)
		errx(HC_EXIT_USAGE, "%s: '%s' is not a number 0-%lu",
		     option, str, max);
	return value;
}

static int parse_timeout(const char *str)
{
	double seconds;
	char *end;

	errno = 0;
	seconds = strtod(str, &end);
	if (*end != '\0' || errno != 0 || end == str ||
	    !(seconds > 0 && seconds <= INT_MAX / 1000))
		errx(HC_EXIT_USAGE, "--timeout: '%s' is not a number of seconds", str);
	/* Round up: a timeout never fires early. */
	return (int)(seconds * 1000 + 0.999);
}

static void parse_split(const char *str, struct hc_options *opts)
{
	const char *p = str;

	free(opts->split);
	opts->split = NULL;
	opts->split_count = 0;
	while (*p != '\0') {
		size_t *split, offset;
		char *end;

		errno = 0;
		offset = strtoul(p, &end, 10);
		if (*p < '0' || *p > '9' || errno != 0 || offset == 0 ||
		    (*end != ',' && *end != '\0') ||
		    (opts->split_count > 0 &&
		     offset <= opts->split[opts->split_count - 1]))
			errx(HC_EXIT_USAGE, "--split: '%s' is not a list of "
			     "increasing offsets above 0, such as 5,16", str);
		split = realloc(opts->split,
				(opts->split_count + 1) * sizeof(*split));
		if (split == NULL)
			err(HC_EXIT_ERROR, "realloc");
		opts->split = split;
		opts->split[opts->split_count++] = offset;
		p = *end == ',' ? end + 1 : end;
		if (*end == ',' && *p == '\0')
			errx(HC_EXIT_USAGE, "--split: '%s' ends with a comma", str);
	}
	if (opts->split_count == 0)
		errx(HC_EXIT_USAGE, "--split: no offset given");
}

/* A new extra TLV of type with room for size bytes of value. */
static unsigned char *add_tlv(struct hc_options *opts, uint8_t type, size_t size)
{
	struct proxy_tlv *tlvs, *tlv;
	/* One more byte: malloc(0) may return NULL. */
	unsigned char *value = malloc(size + 1);

	tlvs = realloc(opts->tlvs, (opts->tlv_count + 1) * sizeof(*tlvs));
	if (value == NULL || tlvs == NULL)
		err(HC_EXIT_ERROR, "malloc");
	opts->tlvs = tlvs;
	tlv = &opts->tlvs[opts->tlv_count++];
	tlv->type = type;
	tlv->value.data = value;
	tlv->value.size = size;
	return value;
}

/* TYPE:HEX, TYPE decimal or 0x-prefixed hex. */
static void parse_tlv(const char *str, struct hc_options *opts)
{
	const char *colon = strchr(str, ':'), *hex;
	unsigned char *value;
	unsigned long type;
	size_t i, size;
	char *end;

	errno = 0;
	type = strtoul(str, &end, 0);
	if (colon == NULL || end != colon || str[0] < '0' || str[0] > '9' ||
	    errno != 0 || type > 255)
		errx(HC_EXIT_USAGE, "--tlv: '%s' does not start with a type "
		     "0-255 and a colon", str);
	hex = colon + 1;
	size = strlen(hex) / 2;
	if (strlen(hex) % 2 != 0)
		errx(HC_EXIT_USAGE, "--tlv: '%s' has an odd number of hex digits", str);

	value = add_tlv(opts, (uint8_t)type, size);
	for (i = 0; i < size; i++) {
		int high = proxy_hex_digit(hex[2 * i]);
		int low = proxy_hex_digit(hex[2 * i + 1]);

		if (high < 0 || low < 0)
			errx(HC_EXIT_USAGE, "--tlv: '%s' has a value that is "
			     "not hex digits", str);
		value[i] = (unsigned char)(high << 4 | low);
	}
}

/* The vendor TLV options: which ID each sets. */
static const struct {
	int opt;
	enum proxy_vendor_id id;
	const char *name;
} vendor_options[] = {
	{ OPT_AWS_VPCE_ID, PROXY_VENDOR_AWS_VPCE_ID, "--aws-vpce-id" },
	{ OPT_AZURE_LINKID, PROXY_VENDOR_AZURE_LINKID, "--azure-linkid" },
	{ OPT_GCP_PSC_ID, PROXY_VENDOR_GCP_PSC_CONNECTION_ID, "--gcp-psc-id" },
	{ OPT_ALIBABA_VPC_ID, PROXY_VENDOR_ALIBABA_VPC_ID,
	  "--alibaba-vpc-id" },
	{ OPT_ALIBABA_ENDPOINT_ID, PROXY_VENDOR_ALIBABA_ENDPOINT_ID,
	  "--alibaba-endpoint-id" },
	{ OPT_ALIBABA_ENDPOINT_SERVICE_ID,
	  PROXY_VENDOR_ALIBABA_ENDPOINT_SERVICE_ID,
	  "--alibaba-endpoint-service-id" },
};

/* A vendor's TLV; false if opt is not one of its options. */
static bool parse_vendor_option(int opt, const char *arg,
				struct hc_options *opts)
{
	struct proxy_vendor_value vendor = { .id = PROXY_VENDOR_ID_COUNT };
	unsigned char buf[PROXY_VENDOR_ID_MAX_LENGTH + 1];
	const char *name = NULL;
	unsigned long long number;
	unsigned int number_size;
	uint8_t type;
	size_t i, size;
	char *end;

	for (i = 0; i < sizeof(vendor_options) / sizeof(vendor_options[0]); i++) {
		if (vendor_options[i].opt == opt) {
			vendor.id = vendor_options[i].id;
			name = vendor_options[i].name;
		}
	}
	if (name == NULL)
		return false;
	number_size = proxy_vendor_id_number_size(vendor.id);
	if (number_size != 0) {
		/* Decimal, or hexadecimal with 0x: never octal. */
		bool hex = arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X');
		const char *digits = hex ? arg + 2 : arg;

		errno = 0;
		number = strtoull(digits, &end, hex ? 16 : 10);
		/* strtoull() takes signs and spaces too. */
		if (!(hex ? isxdigit((unsigned char)digits[0]) :
		      isdigit((unsigned char)digits[0])) || *end != '\0' ||
		    errno != 0 ||
		    (number_size < 8 && number >> (8 * number_size) != 0))
			errx(HC_EXIT_USAGE, "%s: '%s' is not a number of %u "
			     "bits", name, arg, 8 * number_size);
		vendor.number = number;
	} else {
		vendor.text.data = (const unsigned char *)arg;
		vendor.text.size = strlen(arg);
	}
	if (vendor.text.size > PROXY_VENDOR_ID_MAX_LENGTH)
		errx(HC_EXIT_USAGE, "%s: '%s' is longer than %u bytes", name,
		     arg, PROXY_VENDOR_ID_MAX_LENGTH);
	size = proxy_vendor_encode(&vendor, &type, buf, sizeof(buf));
	if (size == 0)
		errx(HC_EXIT_USAGE, "%s: '%s' is not an ID of letters, digits "
		     "and '-'", name, arg);
	memcpy(add_tlv(opts, type, size), buf, size);
	return true;
}

static void
parse_endpoint(const char *option, const char *str,
	       struct sockaddr_storage *addr_r, bool *set_r)
{
	const char *error;

	if (!hc_address_parse(str, addr_r, &error))
		errx(HC_EXIT_USAGE, "%s: '%s': %s", option, str, error);
	*set_r = true;
}

static void parse_client_cert(const char *arg, struct proxy_ssl *ssl)
{
	ssl->client &= (uint8_t)~(PROXY_SSL_CLIENT_CERT_CONN |
				  PROXY_SSL_CLIENT_CERT_SESS);
	if (arg == NULL || strcmp(arg, "conn") == 0) {
		ssl->client |= PROXY_SSL_CLIENT_CERT_CONN |
			PROXY_SSL_CLIENT_CERT_SESS;
	} else if (strcmp(arg, "sess") == 0) {
		ssl->client |= PROXY_SSL_CLIENT_CERT_SESS;
	} else {
		errx(HC_EXIT_USAGE, "--client-cert: '%s' is neither conn nor sess",
		     arg);
	}
}

/* The SSL TLV's options; false if opt is not one of them. */
static bool parse_ssl_option(int opt, const char *arg, struct proxy_ssl *ssl)
{
	switch (opt) {
	case OPT_SSL:
		ssl->client |= PROXY_SSL_CLIENT_SSL;
		break;
	case OPT_CLIENT_CERT:
		parse_client_cert(arg, ssl);
		break;
	case OPT_SSL_VERIFY:
		ssl->verify = (uint32_t)parse_number("--ssl-verify", arg, UINT32_MAX);
		break;
	case OPT_SSL_VERSION:
		ssl->version = string_bytes(arg);
		break;
	case OPT_SSL_CN:
		ssl->cn = string_bytes(arg);
		break;
	case OPT_SSL_CIPHER:
		ssl->cipher = string_bytes(arg);
		break;
	case OPT_SSL_SIG_ALG:
		ssl->sig_alg = string_bytes(arg);
		break;
	case OPT_SSL_KEY_ALG:
		ssl->key_alg = string_bytes(arg);
		break;
	case OPT_SSL_GROUP:
		ssl->group = string_bytes(arg);
		break;
	case OPT_SSL_SIG_SCHEME:
		ssl->sig_scheme = string_bytes(arg);
		break;
	default:
		return false;
	}
	ssl->present = true;
	return true;
}

/* The options that shape the header; false if opt is not one of them. */
static bool
parse_header_option(int opt, const char *arg, struct hc_options *opts,
		    struct parse_state *state)
{
	struct proxy_header *hdr = &opts->header;

	switch (opt) {
	case '1':
	case '2':
		state->version = (unsigned int)(opt - '0');
		break;
	case OPT_SRC:
		parse_endpoint("--src", arg, &opts->src, &opts->src_set);
		break;
	case OPT_DST:
		parse_endpoint("--dst", arg, &opts->dst, &opts->dst_set);
		break;
	case OPT_LOCAL:
		state->local = true;
		break;
	case OPT_UNKNOWN:
		state->unknown = true;
		break;
	case OPT_DGRAM:
		state->dgram = true;
		break;
	case OPT_CRC32C:
		hdr->crc32c = true;
		break;
	case OPT_ALPN:
		hdr->alpn = string_bytes(arg);
		break;
	case OPT_AUTHORITY:
		hdr->authority = string_bytes(arg);
		break;
	case OPT_UNIQUE_ID:
		hdr->unique_id = string_bytes(arg);
		break;
	case OPT_NETNS:
		hdr->netns = string_bytes(arg);
		break;
	case OPT_TLV:
		parse_tlv(arg, opts);
		break;
	case OPT_SSL_CERT:
		opts->ssl_cert_path = arg;
		hdr->ssl.present = true;
		break;
	default:
		if (!parse_ssl_option(opt, arg, &hdr->ssl) &&
		    !parse_vendor_option(opt, arg, opts))
			return false;
	}
	state->header_given = true;
	return true;
}

static void
parse_other_option(int opt, const char *arg, struct hc_options *opts)
{
	switch (opt) {
	case OPT_RAW:
		opts->raw_path = arg;
		break;
	case OPT_SPLIT:
		parse_split(arg, opts);
		break;
	case OPT_DELAY:
		opts->delay_ms = (unsigned int)parse_number("--delay", arg, INT_MAX);
		break;
	case OPT_HEXDUMP:
		opts->hexdump = true;
		break;
	case OPT_PRINT_HEADER:
		opts->print_header = true;
		break;
	case OPT_BIND:
		opts->bind = arg;
		break;
	case OPT_TIMEOUT:
		opts->timeout_ms = parse_timeout(arg);
		break;
	case OPT_TLS:
		opts->tls = true;
		break;
	case OPT_CERT:
		opts->cert = arg;
		break;
	case OPT_KEY:
		opts->key = arg;
		break;
	case OPT_CA:
		opts->ca = arg;
		break;
	case OPT_INSECURE:
		opts->insecure = true;
		break;
	case OPT_SNI:
		opts->sni = arg;
		break;
	case 'N':
		opts->shutdown = true;
		break;
	case 'h':
		fputs(usage_text, stdout);
		exit(fflush(stdout) == 0 ? 0 : HC_EXIT_ERROR);
	case 'V':
		printf("haproxy-connect (dovecot-haproxy) %s\n", HC_VERSION);
		exit(fflush(stdout) == 0 ? 0 : HC_EXIT_ERROR);
	default:
		usage_error();
	}
}

/* Version and command from -1, -2, --local and --unknown. */
static void
check_command(const struct parse_state *state, struct hc_options *opts)
{
	struct proxy_header *hdr = &opts->header;

	if (state->local && state->unknown)
		errx(HC_EXIT_USAGE, "--local and --unknown: choose one");
	hdr->version = state->version != 0 ? state->version :
		state->unknown ? 1 : 2;
	hdr->command = PROXY_CMD_PROXY;
	hdr->transport = state->dgram ? PROXY_TRANSPORT_DGRAM :
		PROXY_TRANSPORT_STREAM;
	if (state->unknown) {
		if (hdr->version != 1)
			errx(HC_EXIT_USAGE, "--unknown is v1's; v2 has --local");
		if (opts->src_set || opts->dst_set)
			errx(HC_EXIT_USAGE, "--unknown sends no address: "
			     "--src and --dst do not apply");
		hdr->command = PROXY_CMD_LOCAL;
	}
	if (state->local) {
		if (hdr->version != 2)
			errx(HC_EXIT_USAGE, "--local is v2's; v1 has --unknown");
		hdr->command = PROXY_CMD_LOCAL;
	}
	if (hdr->version == 1 && state->dgram)
		errx(HC_EXIT_USAGE, "--dgram is v2's; v1 is TCP only");
}

static void
check_options(int argc, char *argv[], const struct parse_state *state,
	      struct hc_options *opts)
{
	check_command(state, opts);
	if (opts->raw_path != NULL && state->header_given)
		errx(HC_EXIT_USAGE, "--raw sends FILE as it is: "
		     "header options do not apply");
	if (opts->delay_ms > 0 && opts->split_count == 0)
		errx(HC_EXIT_USAGE, "--delay needs --split");
	if (!opts->tls && (opts->cert != NULL || opts->key != NULL ||
			   opts->ca != NULL || opts->insecure ||
			   opts->sni != NULL))
		errx(HC_EXIT_USAGE, "--cert, --key, --ca, --insecure and --sni "
		     "need --tls");
	if (opts->key != NULL && opts->cert == NULL)
		errx(HC_EXIT_USAGE, "--key needs --cert");
	if (opts->insecure && opts->ca != NULL)
		errx(HC_EXIT_USAGE, "--insecure and --ca: choose one");

	if (opts->print_header) {
		if (optind != argc)
			errx(HC_EXIT_USAGE, "--print-header connects nowhere: "
			     "give --dst instead of HOST PORT");
		return;
	}
	if (argc - optind != 2) {
		warnx(argc - optind < 2 ? "HOST and PORT are needed" :
		      "too many arguments");
		usage_error();
	}
	opts->host = argv[optind];
	opts->port = argv[optind + 1];
}

void hc_options_parse(int argc, char *argv[], struct hc_options *opts)
{
	struct parse_state state;
	int opt;

	memset(opts, 0, sizeof(*opts));
	memset(&state, 0, sizeof(state));
	opts->timeout_ms = -1;

	while ((opt = getopt_long(argc, argv, "12hNV", long_options, NULL)) != -1) {
		if (!parse_header_option(opt, optarg, opts, &state))
			parse_other_option(opt, optarg, opts);
	}
	check_options(argc, argv, &state, opts);
}

void hc_options_free(struct hc_options *opts)
{
	size_t i;

	for (i = 0; i < opts->tlv_count; i++)
		free((void *)opts->tlvs[i].value.data);
	free(opts->tlvs);
	free(opts->split);
}
