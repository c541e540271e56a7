#ifndef PROXY_VENDOR_H
#define PROXY_VENDOR_H

#include "proxy-decoder.h"

/* Cloud load balancers' TLVs, in the range 0xE0-0xEF that the spec leaves
   to applications: each names the private endpoint, and so the customer
   network, a connection came through. Layouts as the vendors document
   them (and go-proxyproto's tlvparse and nginx decode them):
   - 0xE0 Google Cloud Private Service Connect: the connection ID, uint64
     big-endian;
   - 0xE1 Alibaba Cloud NLB/PrivateLink: a subtype byte, 0x01 VPC ID, 0x02
     endpoint ID, 0x03 endpoint service ID, then the ID in ASCII;
   - 0xEA AWS Network Load Balancer/PrivateLink: subtype 0x01, then the VPC
     endpoint ID in ASCII;
   - 0xEE Azure Private Link: subtype 0x01, then the private endpoint's
     LINKID, uint32 little-endian. */

enum proxy_vendor_tlv_type {
	PROXY_TLV_GCP = 0xE0,
	PROXY_TLV_ALIBABA = 0xE1,
	PROXY_TLV_AWS = 0xEA,
	PROXY_TLV_AZURE = 0xEE,
};

enum proxy_vendor_id {
	PROXY_VENDOR_GCP_PSC_CONNECTION_ID,
	PROXY_VENDOR_ALIBABA_VPC_ID,
	PROXY_VENDOR_ALIBABA_ENDPOINT_ID,
	PROXY_VENDOR_ALIBABA_ENDPOINT_SERVICE_ID,
	PROXY_VENDOR_AWS_VPCE_ID,
	PROXY_VENDOR_AZURE_LINKID,

	PROXY_VENDOR_ID_COUNT
};

/* Longest textual ID accepted. */
#define PROXY_VENDOR_ID_MAX_LENGTH 255

struct proxy_vendor_value {
	enum proxy_vendor_id id;
	/* A textual ID (letters, digits, '-'), pointing into the TLV; data
	   is NULL for a numeric one. */
	struct proxy_bytes text;
	uint64_t number;
};

/* Decode a TLV of a header. Returns 1 with *value_r for a vendor's TLV,
   0 for any other type or subtype, -1 with *reason_r for a vendor's TLV
   whose value is malformed. */
int proxy_vendor_decode(const struct proxy_tlv *tlv,
			struct proxy_vendor_value *value_r,
			const char **reason_r);

/* "aws_vpce_id", "azure_linkid", ...: a stable name. */
const char *proxy_vendor_id_name(enum proxy_vendor_id id);
/* The size in bytes of a numeric ID (4 for Azure's LINKID, 8 for GCP's
   connection ID); 0 for one that is text. */
unsigned int proxy_vendor_id_number_size(enum proxy_vendor_id id);

/* The TLV of value, into buf: its type, and the value's bytes; returns
   their length, or 0 if size is too small or a textual ID is invalid. */
size_t proxy_vendor_encode(const struct proxy_vendor_value *value,
			   uint8_t *type_r, unsigned char *buf, size_t size);

#endif
