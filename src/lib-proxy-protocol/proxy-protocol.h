#ifndef PROXY_PROTOCOL_H
#define PROXY_PROTOCOL_H

/* Constants of the PROXY protocol, as doc/proxy-protocol.txt in
   haproxy/haproxy defines them. Shared by the decoder and the encoder. */

/* v1: "PROXY UNKNOWN\r\n" is the shortest line, 107 bytes the longest. */
#define PROXY_V1_SIGNATURE "PROXY "
#define PROXY_V1_SIGNATURE_LENGTH 6
#define PROXY_V1_MIN_LENGTH 15
#define PROXY_V1_MAX_LENGTH 107

#define PROXY_V2_SIGNATURE "\r\n\r\n\0\r\nQUIT\n"
#define PROXY_V2_SIGNATURE_LENGTH 12
/* Signature, version/command, family/transport, 16-bit length. */
#define PROXY_V2_FIXED_LENGTH 16
#define PROXY_V2_MAX_LENGTH (PROXY_V2_FIXED_LENGTH + 65535)
#define PROXY_V2_VERSION 0x2

#define PROXY_V2_INET_ADDR_LENGTH 12
#define PROXY_V2_INET6_ADDR_LENGTH 36
#define PROXY_V2_UNIX_ADDR_LENGTH 216
#define PROXY_V2_UNIX_PATH_LENGTH 108

#define PROXY_TLV_HEADER_LENGTH 3
#define PROXY_TLV_SSL_FIXED_LENGTH 5
#define PROXY_TLV_CRC32C_LENGTH 4
#define PROXY_TLV_UNIQUE_ID_MAX_LENGTH 128

/* Longer than either version's longest header. */
#define PROXY_HEADER_MAX_LENGTH PROXY_V2_MAX_LENGTH

enum proxy_command {
	PROXY_CMD_LOCAL = 0x0,
	PROXY_CMD_PROXY = 0x1,
};

enum proxy_family {
	PROXY_AF_UNSPEC = 0x0,
	PROXY_AF_INET = 0x1,
	PROXY_AF_INET6 = 0x2,
	PROXY_AF_UNIX = 0x3,
};

enum proxy_transport {
	PROXY_TRANSPORT_UNSPEC = 0x0,
	PROXY_TRANSPORT_STREAM = 0x1,
	PROXY_TRANSPORT_DGRAM = 0x2,
};

enum proxy_tlv_type {
	PROXY_TLV_ALPN = 0x01,
	PROXY_TLV_AUTHORITY = 0x02,
	PROXY_TLV_CRC32C = 0x03,
	PROXY_TLV_NOOP = 0x04,
	PROXY_TLV_UNIQUE_ID = 0x05,
	PROXY_TLV_SSL = 0x20,
	PROXY_TLV_SSL_VERSION = 0x21,
	PROXY_TLV_SSL_CN = 0x22,
	PROXY_TLV_SSL_CIPHER = 0x23,
	PROXY_TLV_SSL_SIG_ALG = 0x24,
	PROXY_TLV_SSL_KEY_ALG = 0x25,
	PROXY_TLV_SSL_GROUP = 0x26,
	PROXY_TLV_SSL_SIG_SCHEME = 0x27,
	PROXY_TLV_SSL_CLIENT_CERT = 0x28,
	PROXY_TLV_NETNS = 0x30,
	/* 0xE0-0xEF: applications, 0xF0-0xF7: experiments,
	   0xF8-0xFF: reserved for future multi-byte types. */
	PROXY_TLV_CUSTOM_MIN = 0xE0,
	PROXY_TLV_CUSTOM_MAX = 0xEF,
	PROXY_TLV_EXPERIMENT_MIN = 0xF0,
	PROXY_TLV_EXPERIMENT_MAX = 0xF7,
	PROXY_TLV_FUTURE_MIN = 0xF8,
};

/* Bits of the SSL TLV's client field. */
enum proxy_ssl_client {
	PROXY_SSL_CLIENT_SSL = 0x01,
	PROXY_SSL_CLIENT_CERT_CONN = 0x02,
	PROXY_SSL_CLIENT_CERT_SESS = 0x04,
};

#endif
