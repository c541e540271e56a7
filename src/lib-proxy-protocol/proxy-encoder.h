#ifndef PROXY_ENCODER_H
#define PROXY_ENCODER_H

#include "proxy-decoder.h"

/* The decoder's inverse: writes a struct proxy_header as a v1 line or a v2
   header. It never allocates and never writes past the buffer.

   Input fields are those proxy_decode() fills, with these rules:
   - version 1: PROXY with INET or INET6 over STREAM, or LOCAL, which is
     written as "PROXY UNKNOWN". No TLV, no SSL, no CRC32C.
   - version 2: any command, family and transport; the address block is the
     family's. A UNIX path shorter than 108 bytes is padded with NULs.
   - A byte string is absent when its data is NULL, so an empty one (data
     non-NULL, size 0) is written as an empty TLV. ssl.present writes the SSL
     TLV; SSL sub-TLVs without it are an error, not silently dropped.
   - crc32c adds the CRC32C TLV and fills it in.
   - length, tlvs and ssl.tlvs are outputs of the decoder, ignored here.

   TLVs are written in the order HAProxy 2.6 uses (make_proxy_line_v2() in
   src/connection.c), so that the bytes can be compared with its own:
   CRC32C, ALPN, AUTHORITY, UNIQUE_ID, SSL (VERSION, CN, KEY_ALG, SIG_ALG,
   CIPHER, then GROUP, SIG_SCHEME, CLIENT_CERT which it does not send),
   NETNS, then the extra TLVs in the caller's order. The extra TLVs are
   written as given, unchecked, which is what makes hostile headers
   possible: a header whose extra TLVs repeat a known type does not decode
   to the same fields. */

/* Encode hdr and extra_count extra TLVs into buf. Returns the header's
   length; if that is larger than size, buf holds nothing useful and a
   buffer of the returned size is needed (buf may be NULL when size is 0,
   to ask for it). Returns 0 with *error_r set if hdr cannot be encoded. */
size_t proxy_encode(const struct proxy_header *hdr,
		    const struct proxy_tlv *extra, size_t extra_count,
		    void *buf, size_t size, const char **error_r);

#endif
