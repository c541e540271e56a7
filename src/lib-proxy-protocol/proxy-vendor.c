/* Cloud load balancers' TLVs: decoding and encoding. */

#include "proxy-vendor.h"

#include <string.h>

/* Where each ID lives: its TLV type and subtype (0: none), whether it is
   a number (of how many bytes, in which order) or text. */
struct proxy_vendor_def {
	const char *name;
	uint8_t type, subtype;
	unsigned int number_size;
	bool little_endian;
};

static const struct proxy_vendor_def proxy_vendor_ids[PROXY_VENDOR_ID_COUNT] = {
	[PROXY_VENDOR_GCP_PSC_CONNECTION_ID] = {
		"gcp_psc_connection_id", PROXY_TLV_GCP, 0, 8, false },
	[PROXY_VENDOR_ALIBABA_VPC_ID] = {
		"alibaba_vpc_id", PROXY_TLV_ALIBABA, 0x01, 0, false },
	[PROXY_VENDOR_ALIBABA_ENDPOINT_ID] = {
		"alibaba_endpoint_id", PROXY_TLV_ALIBABA, 0x02, 0, false },
	[PROXY_VENDOR_ALIBABA_ENDPOINT_SERVICE_ID] = {
		"alibaba_endpoint_service_id", PROXY_TLV_ALIBABA, 0x03, 0,
		false },
	[PROXY_VENDOR_AWS_VPCE_ID] = {
		"aws_vpce_id", PROXY_TLV_AWS, 0x01, 0, false },
	[PROXY_VENDOR_AZURE_LINKID] = {
		"azure_linkid", PROXY_TLV_AZURE, 0x01, 4, true },
};

const char *proxy_vendor_id_name(enum proxy_vendor_id id)
{
	return id < PROXY_VENDOR_ID_COUNT ? proxy_vendor_ids[id].name : NULL;
}

unsigned int proxy_vendor_id_number_size(enum proxy_vendor_id id)
{
	return id < PROXY_VENDOR_ID_COUNT ? proxy_vendor_ids[id].number_size : 0;
}

/* The ID the TLV's type and first byte select, or PROXY_VENDOR_ID_COUNT. */
static enum proxy_vendor_id proxy_vendor_find(const struct proxy_tlv *tlv)
{
	enum proxy_vendor_id id;

	for (id = 0; id < PROXY_VENDOR_ID_COUNT; id++) {
		if (proxy_vendor_ids[id].type != tlv->type)
			continue;
		if (proxy_vendor_ids[id].subtype == 0 ||
		    (tlv->value.size > 0 &&
		     tlv->value.data[0] == proxy_vendor_ids[id].subtype))
			return id;
	}
	return PROXY_VENDOR_ID_COUNT;
}

static bool is_id_text(const unsigned char *data, size_t size)
{
	size_t i;

	if (size == 0)
		return false;
	for (i = 0; i < size; i++) {
		unsigned char c = data[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return true;
}

int proxy_vendor_decode(const struct proxy_tlv *tlv,
			struct proxy_vendor_value *value_r,
			const char **reason_r)
{
	enum proxy_vendor_id id = proxy_vendor_find(tlv);
	const struct proxy_vendor_def *def;
	const unsigned char *data;
	size_t size, i;

	if (id == PROXY_VENDOR_ID_COUNT)
		return 0;
	def = &proxy_vendor_ids[id];
	data = tlv->value.data;
	size = tlv->value.size;
	if (def->subtype != 0) {
		data++;
		size--;
	}
	memset(value_r, 0, sizeof(*value_r));
	value_r->id = id;
	if (def->number_size == 0) {
		if (size > PROXY_VENDOR_ID_MAX_LENGTH) {
			*reason_r = "longer than 255 bytes";
			return -1;
		}
		if (!is_id_text(data, size)) {
			*reason_r = "not an ID of letters, digits and '-'";
			return -1;
		}
		value_r->text.data = data;
		value_r->text.size = size;
		return 1;
	}
	if (size != def->number_size) {
		*reason_r = def->number_size == 4 ?
			"not a 4-byte number" : "not an 8-byte number";
		return -1;
	}
	for (i = 0; i < size; i++) {
		size_t byte = def->little_endian ?
			size - 1 - i : i;

		value_r->number = value_r->number << 8 | data[byte];
	}
	return 1;
}

size_t proxy_vendor_encode(const struct proxy_vendor_value *value,
			   uint8_t *type_r, unsigned char *buf, size_t size)
{
	const struct proxy_vendor_def *def;
	size_t length, offset = 0, i;

	if (value->id >= PROXY_VENDOR_ID_COUNT)
		return 0;
	def = &proxy_vendor_ids[value->id];
	if (def->number_size == 0 &&
	    (value->text.size > PROXY_VENDOR_ID_MAX_LENGTH ||
	     !is_id_text(value->text.data, value->text.size)))
		return 0;
	length = (def->subtype != 0 ? 1 : 0) +
		(def->number_size != 0 ? def->number_size : value->text.size);
	if (length > size)
		return 0;
	*type_r = def->type;
	if (def->subtype != 0)
		buf[offset++] = def->subtype;
	if (def->number_size == 0) {
		memcpy(buf + offset, value->text.data, value->text.size);
		return length;
	}
	for (i = 0; i < def->number_size; i++) {
		unsigned int shift = 8 * (def->little_endian ?
					  i : def->number_size - 1 - i);

		buf[offset + i] = (unsigned char)(value->number >> shift);
	}
	return length;
}
