/* The cloud load balancers' TLVs: what each vendor documents decodes to
   its ID, encodes back to the same bytes, and anything malformed is told
   apart from a TLV that is no vendor's. */

#include "test-common.h"
#include "proxy-vendor.h"

#include <string.h>

static struct proxy_tlv tlv(uint8_t type, const char *hex)
{
	static unsigned char data[512];
	struct proxy_tlv t;

	t.type = type;
	t.value.size = test_hex_decode(hex, data, sizeof(data));
	t.value.data = data;
	return t;
}

/* tlv decodes to id with text (or number), and encodes back to itself. */
static void assert_vendor(const struct proxy_tlv *t, enum proxy_vendor_id id,
			  const char *text, uint64_t number)
{
	struct proxy_vendor_value value;
	unsigned char buf[512];
	const char *reason = NULL;
	uint8_t type;
	size_t size;

	assert_int_equal(proxy_vendor_decode(t, &value, &reason), 1);
	assert_int_equal(value.id, id);
	if (text != NULL) {
		assert_non_null(value.text.data);
		assert_int_equal(value.text.size, strlen(text));
		assert_memory_equal(value.text.data, text, strlen(text));
	} else {
		assert_null(value.text.data);
		assert_true(value.number == number);
	}
	size = proxy_vendor_encode(&value, &type, buf, sizeof(buf));
	assert_int_equal(type, t->type);
	assert_int_equal(size, t->value.size);
	assert_memory_equal(buf, t->value.data, size);
}

static void assert_malformed(const struct proxy_tlv *t)
{
	struct proxy_vendor_value value;
	const char *reason = NULL;

	assert_int_equal(proxy_vendor_decode(t, &value, &reason), -1);
	assert_non_null(reason);
}

static void assert_not_vendor(const struct proxy_tlv *t)
{
	struct proxy_vendor_value value;
	const char *reason = NULL;

	assert_int_equal(proxy_vendor_decode(t, &value, &reason), 0);
}

static void test_vendor_aws(void **state)
{
	struct proxy_tlv t;

	(void)state;
	/* subtype 1, "vpce-08d2bf15fac5001c9" */
	t = tlv(0xEA, "01 767063652d3038643262663135666163353030316339");
	assert_vendor(&t, PROXY_VENDOR_AWS_VPCE_ID, "vpce-08d2bf15fac5001c9", 0);
	t = tlv(0xEA, "01");
	assert_malformed(&t);
	t = tlv(0xEA, "01 767063 65 00");
	assert_malformed(&t);
	/* Another subtype is not the endpoint ID. */
	t = tlv(0xEA, "02 7670");
	assert_not_vendor(&t);
	t = tlv(0xEA, "");
	assert_not_vendor(&t);
}

static void test_vendor_azure(void **state)
{
	struct proxy_tlv t;

	(void)state;
	/* LINKID 0x21000001 = 553648129, little-endian */
	t = tlv(0xEE, "01 01000021");
	assert_vendor(&t, PROXY_VENDOR_AZURE_LINKID, NULL, 553648129);
	t = tlv(0xEE, "01 010000");
	assert_malformed(&t);
	t = tlv(0xEE, "01 0100002100");
	assert_malformed(&t);
	t = tlv(0xEE, "02 01000021");
	assert_not_vendor(&t);
}

static void test_vendor_gcp(void **state)
{
	struct proxy_tlv t;

	(void)state;
	/* go-proxyproto's example: 18446744072646845442, big-endian */
	t = tlv(0xE0, "ffffffffc0a86402");
	assert_vendor(&t, PROXY_VENDOR_GCP_PSC_CONNECTION_ID, NULL,
		      18446744072646845442ULL);
	t = tlv(0xE0, "ffffffffc0a864");
	assert_malformed(&t);
	t = tlv(0xE0, "");
	assert_malformed(&t);
}

static void test_vendor_alibaba(void **state)
{
	struct proxy_tlv t;

	(void)state;
	t = tlv(0xE1, "01 7670632d31");	/* vpc-1 */
	assert_vendor(&t, PROXY_VENDOR_ALIBABA_VPC_ID, "vpc-1", 0);
	t = tlv(0xE1, "02 65702d32");	/* ep-2 */
	assert_vendor(&t, PROXY_VENDOR_ALIBABA_ENDPOINT_ID, "ep-2", 0);
	t = tlv(0xE1, "03 6570737276");	/* epsrv */
	assert_vendor(&t, PROXY_VENDOR_ALIBABA_ENDPOINT_SERVICE_ID, "epsrv", 0);
	t = tlv(0xE1, "02 20");
	assert_malformed(&t);
	t = tlv(0xE1, "04 6570");
	assert_not_vendor(&t);
}

static void test_vendor_other_types(void **state)
{
	struct proxy_tlv t;
	unsigned int type;

	(void)state;
	for (type = 0; type <= 0xff; type++) {
		if (type == PROXY_TLV_GCP || type == PROXY_TLV_ALIBABA ||
		    type == PROXY_TLV_AWS || type == PROXY_TLV_AZURE)
			continue;
		t = tlv((uint8_t)type, "01 01000021");
		assert_not_vendor(&t);
	}
}

/* A textual ID of 255 bytes is one, 256 bytes are not, and the encoder
   refuses what the decoder would: no ID, a text that is none, a buffer
   too small. */
static void test_vendor_limits(void **state)
{
	unsigned char data[1 + PROXY_VENDOR_ID_MAX_LENGTH + 1];
	struct proxy_vendor_value value;
	const char *reason = NULL;
	struct proxy_tlv t;
	unsigned char buf[8];
	uint8_t type;

	(void)state;
	data[0] = 0x01;
	memset(data + 1, 'v', sizeof(data) - 1);
	t.type = PROXY_TLV_AWS;
	t.value.data = data;
	t.value.size = 1 + PROXY_VENDOR_ID_MAX_LENGTH;
	assert_int_equal(proxy_vendor_decode(&t, &value, &reason), 1);
	t.value.size++;
	assert_int_equal(proxy_vendor_decode(&t, &value, &reason), -1);
	assert_string_equal(reason, "longer than 255 bytes");

	memset(&value, 0, sizeof(value));
	value.id = PROXY_VENDOR_AWS_VPCE_ID;
	value.text.data = data + 1;
	value.text.size = PROXY_VENDOR_ID_MAX_LENGTH + 1;
	assert_int_equal(proxy_vendor_encode(&value, &type, NULL, 0), 0);
	value.text.data = (const unsigned char *)"vpce 1";
	value.text.size = 6;
	assert_int_equal(proxy_vendor_encode(&value, &type, buf,
					     sizeof(buf)), 0);
	value.text.data = (const unsigned char *)"vpce-0a1b2c3d";
	value.text.size = 13;
	assert_int_equal(proxy_vendor_encode(&value, &type, buf,
					     sizeof(buf)), 0);
	value.id = PROXY_VENDOR_ID_COUNT;
	assert_int_equal(proxy_vendor_encode(&value, &type, buf,
					     sizeof(buf)), 0);
}

static void test_vendor_names(void **state)
{
	enum proxy_vendor_id id;

	(void)state;
	for (id = 0; id < PROXY_VENDOR_ID_COUNT; id++)
		assert_non_null(proxy_vendor_id_name(id));
	assert_string_equal(proxy_vendor_id_name(PROXY_VENDOR_AWS_VPCE_ID),
			    "aws_vpce_id");
	assert_null(proxy_vendor_id_name(PROXY_VENDOR_ID_COUNT));
}

static void test_vendor_number_sizes(void **state)
{
	(void)state;
	assert_int_equal(proxy_vendor_id_number_size(PROXY_VENDOR_AZURE_LINKID),
			 4);
	assert_int_equal(proxy_vendor_id_number_size(
		PROXY_VENDOR_GCP_PSC_CONNECTION_ID), 8);
	assert_int_equal(proxy_vendor_id_number_size(PROXY_VENDOR_AWS_VPCE_ID),
			 0);
	assert_int_equal(proxy_vendor_id_number_size(
		PROXY_VENDOR_ALIBABA_VPC_ID), 0);
	assert_int_equal(proxy_vendor_id_number_size(PROXY_VENDOR_ID_COUNT), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vendor_aws),
		cmocka_unit_test(test_vendor_azure),
		cmocka_unit_test(test_vendor_gcp),
		cmocka_unit_test(test_vendor_alibaba),
		cmocka_unit_test(test_vendor_other_types),
		cmocka_unit_test(test_vendor_limits),
		cmocka_unit_test(test_vendor_names),
		cmocka_unit_test(test_vendor_number_sizes),
	};

	return test_run(tests);
}
