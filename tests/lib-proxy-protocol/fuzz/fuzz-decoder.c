/* libFuzzer harness for the decoder. Besides what ASan and UBSan catch,
   it checks the decoder's promises on any input: a COMPLETE header lies
   within the input and every pointer in it too, its TLV areas walk without
   error and agree with the decoded fields, and the answer does not depend
   on how the input was split. Any broken promise aborts. */

#include "proxy-decoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prefixes up to this size are decoded from a copy ending exactly where
   the prefix does, so that ASan sees a read past it. */
#define EXACT_PREFIX_MAX 256

struct answer {
	enum proxy_result result;
	struct proxy_header hdr;
	size_t need;
	enum proxy_error error;
};

#define check(expr) \
	((expr) ? (void)0 : check_failed(#expr, __LINE__))

static void check_failed(const char *expr, int line)
{
	fprintf(stderr, "fuzz-decoder.c:%d: broken promise: %s\n", line, expr);
	abort();
}

static void decode(const unsigned char *data, size_t size,
		   struct answer *answer_r)
{
	answer_r->need = 0;
	answer_r->error = PROXY_ERROR_NONE;
	answer_r->result = proxy_decode(data, size, &answer_r->hdr,
					&answer_r->need, &answer_r->error);
}

static void check_inside(const struct proxy_bytes *bytes,
			 const unsigned char *start, size_t length)
{
	if (bytes->data == NULL) {
		check(bytes->size == 0);
		return;
	}
	check(bytes->data >= start);
	check(bytes->size <= length);
	check((size_t)(bytes->data - start) <= length - bytes->size);
}

/* Walk an area: no error, every value inside it. first_r[type] is the
   first value of each type, NULL for types not seen. */
static void walk_tlvs(const struct proxy_bytes *area,
		      const unsigned char *first_r[256])
{
	struct proxy_tlv_iter iter;
	struct proxy_tlv tlv;
	int ret;

	memset(first_r, 0, 256 * sizeof(first_r[0]));
	proxy_tlv_iter_init(&iter, area);
	while ((ret = proxy_tlv_iter_next(&iter, &tlv)) > 0) {
		check_inside(&tlv.value, area->data, area->size);
		if (first_r[tlv.type] == NULL)
			first_r[tlv.type] = tlv.value.data;
	}
	check(ret == 0);
}

static void check_complete(const unsigned char *data, size_t size,
			   const struct proxy_header *hdr)
{
	const struct proxy_bytes *const all[] = {
		&hdr->src.path, &hdr->dst.path, &hdr->tlvs, &hdr->alpn,
		&hdr->authority, &hdr->unique_id, &hdr->netns,
		&hdr->ssl.version, &hdr->ssl.cn, &hdr->ssl.cipher,
		&hdr->ssl.sig_alg, &hdr->ssl.key_alg, &hdr->ssl.group,
		&hdr->ssl.sig_scheme, &hdr->ssl.client_cert, &hdr->ssl.tlvs,
	};
	/* In sub-TLV order, 0x21 to 0x28. */
	const struct proxy_bytes *const ssl_fields[] = {
		&hdr->ssl.version, &hdr->ssl.cn, &hdr->ssl.cipher,
		&hdr->ssl.sig_alg, &hdr->ssl.key_alg, &hdr->ssl.group,
		&hdr->ssl.sig_scheme, &hdr->ssl.client_cert,
	};
	const unsigned char *first[256];
	unsigned int i;

	check(hdr->length <= size);
	check(hdr->version == 1 || hdr->version == 2);
	if (hdr->version == 1) {
		check(hdr->length >= PROXY_V1_MIN_LENGTH &&
		      hdr->length <= PROXY_V1_MAX_LENGTH);
		check(memcmp(data + hdr->length - 2, "\r\n", 2) == 0);
	} else {
		check(hdr->length == PROXY_V2_FIXED_LENGTH +
		      (size_t)(data[14] << 8 | data[15]));
	}
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		check_inside(all[i], data, hdr->length);
	check(hdr->unique_id.size <= PROXY_TLV_UNIQUE_ID_MAX_LENGTH);

	/* Duplicates are refused, so each field is its type's only TLV. */
	walk_tlvs(&hdr->tlvs, first);
	check(hdr->alpn.data == first[PROXY_TLV_ALPN]);
	check(hdr->authority.data == first[PROXY_TLV_AUTHORITY]);
	check(hdr->unique_id.data == first[PROXY_TLV_UNIQUE_ID]);
	check(hdr->netns.data == first[PROXY_TLV_NETNS]);
	check(hdr->crc32c == (first[PROXY_TLV_CRC32C] != NULL));
	check(hdr->ssl.present == (first[PROXY_TLV_SSL] != NULL));
	if (!hdr->ssl.present) {
		check(hdr->ssl.tlvs.data == NULL);
		return;
	}
	walk_tlvs(&hdr->ssl.tlvs, first);
	for (i = 0; i < sizeof(ssl_fields) / sizeof(ssl_fields[0]); i++)
		check(ssl_fields[i]->data == first[PROXY_TLV_SSL_VERSION + i]);
}

/* The answer for the first size bytes, against the whole input's. */
static void check_answer(const unsigned char *data, size_t size,
			 const struct answer *part, const struct answer *whole)
{
	switch (part->result) {
	case PROXY_RESULT_NEED_MORE:
		check(part->need > 0);
		if (whole->result == PROXY_RESULT_COMPLETE)
			check(size + part->need <= whole->hdr.length);
		/* Exact once a v2 length is in. */
		if (size >= PROXY_V2_FIXED_LENGTH && data[0] == '\r') {
			check(size + part->need == PROXY_V2_FIXED_LENGTH +
			      (size_t)(data[14] << 8 | data[15]));
		}
		break;
	case PROXY_RESULT_INVALID:
		check(part->error > PROXY_ERROR_NONE &&
		      part->error < PROXY_ERROR_COUNT);
		check(whole->result == PROXY_RESULT_INVALID);
		check(part->error == whole->error);
		break;
	case PROXY_RESULT_COMPLETE:
		check(whole->result == PROXY_RESULT_COMPLETE);
		check(part->hdr.length == whole->hdr.length);
		break;
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	unsigned char *exact = malloc(EXACT_PREFIX_MAX);
	struct answer whole, part;
	size_t prefix;

	check(exact != NULL);
	decode(data, size, &whole);
	check_answer(data, size, &whole, &whole);
	if (whole.result == PROXY_RESULT_COMPLETE)
		check_complete(data, size, &whole.hdr);

	/* Every prefix up to the first that decides: the decoder looks at
	   no byte past that point, and the whole input was checked above. */
	for (prefix = 0; prefix < size; prefix++) {
		const unsigned char *at = data;

		if (prefix <= EXACT_PREFIX_MAX) {
			unsigned char *copy = exact + EXACT_PREFIX_MAX - prefix;

			memcpy(copy, data, prefix);
			at = copy;
		}
		decode(at, prefix, &part);
		check_answer(data, prefix, &part, &whole);
		if (part.result != PROXY_RESULT_NEED_MORE)
			break;
	}
	free(exact);
	return 0;
}
