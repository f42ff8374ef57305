/* libcbor, loaded on first use (core/dl.h): only the attested-TLS evidence extension
 * (ratls/wire.c) encodes or decodes CBOR, so no other command loads it at start-up. Include this
 * instead of <cbor.h>'s functions: their names are routed through a table filled by
 * cct_dl_cbor_ok(), which every entry point of wire.c runs first. */
#ifndef CCT_RATLS_DL_CBOR_H
#define CCT_RATLS_DL_CBOR_H

#include <stddef.h>

#include <cbor.h>

/* The soname follows the headers the build used: libcbor's ABI changes with each minor
 * version (Debian 12: libcbor.so.0.8, package libcbor0.8). */
#define CCT_DL_CBOR_STR_(x) #x
#define CCT_DL_CBOR_STR(x) CCT_DL_CBOR_STR_(x)
#define CCT_DL_CBOR_VERSION CCT_DL_CBOR_STR(CBOR_MAJOR_VERSION) "." CCT_DL_CBOR_STR(CBOR_MINOR_VERSION)
#define CCT_DL_CBOR_SONAME "libcbor.so." CCT_DL_CBOR_VERSION
#define CCT_DL_CBOR_PACKAGE "libcbor" CCT_DL_CBOR_VERSION

#define CCT_CBOR_FUNCS(X)                                                                     \
	X(cbor_stream_decode) X(cbor_load) X(cbor_decref) X(cbor_move) X(cbor_serialize_alloc) \
	X(cbor_isa_uint) X(cbor_isa_bytestring) X(cbor_isa_string) X(cbor_isa_array)           \
	X(cbor_isa_map) X(cbor_isa_tag) X(cbor_is_bool) X(cbor_get_bool) X(cbor_get_int)       \
	X(cbor_bytestring_handle) X(cbor_bytestring_length) X(cbor_bytestring_is_definite)     \
	X(cbor_string_handle) X(cbor_string_length) X(cbor_string_is_definite)                 \
	X(cbor_array_handle) X(cbor_array_size) X(cbor_array_is_definite) X(cbor_array_push)   \
	X(cbor_map_handle) X(cbor_map_size) X(cbor_map_is_definite) X(cbor_map_add)           \
	X(cbor_tag_item) X(cbor_tag_value) X(cbor_new_definite_array) X(cbor_new_definite_map) \
	X(cbor_build_bool) X(cbor_build_bytestring) X(cbor_build_string) X(cbor_build_tag)     \
	X(cbor_build_uint8)

typedef struct cct_dl_cbor_table {
#define CCT_X(f) __typeof__(&f) f;
	CCT_CBOR_FUNCS(CCT_X)
#undef CCT_X
} cct_dl_cbor_table;

extern cct_dl_cbor_table cct_dl_cbor_fns;
/* Load libcbor once (thread-safe): 1 when loaded, else 0 with the reason in why (if not
 * NULL): the shared object and the Debian package that provides it. */
int cct_dl_cbor_ok(char *why, size_t size);

#ifndef CCT_DL_CBOR_IMPL
#define cbor_stream_decode (cct_dl_cbor_fns.cbor_stream_decode)
#define cbor_load (cct_dl_cbor_fns.cbor_load)
#define cbor_decref (cct_dl_cbor_fns.cbor_decref)
#define cbor_move (cct_dl_cbor_fns.cbor_move)
#define cbor_serialize_alloc (cct_dl_cbor_fns.cbor_serialize_alloc)
#define cbor_isa_uint (cct_dl_cbor_fns.cbor_isa_uint)
#define cbor_isa_bytestring (cct_dl_cbor_fns.cbor_isa_bytestring)
#define cbor_isa_string (cct_dl_cbor_fns.cbor_isa_string)
#define cbor_isa_array (cct_dl_cbor_fns.cbor_isa_array)
#define cbor_isa_map (cct_dl_cbor_fns.cbor_isa_map)
#define cbor_isa_tag (cct_dl_cbor_fns.cbor_isa_tag)
#define cbor_is_bool (cct_dl_cbor_fns.cbor_is_bool)
#define cbor_get_bool (cct_dl_cbor_fns.cbor_get_bool)
#define cbor_get_int (cct_dl_cbor_fns.cbor_get_int)
#define cbor_bytestring_handle (cct_dl_cbor_fns.cbor_bytestring_handle)
#define cbor_bytestring_length (cct_dl_cbor_fns.cbor_bytestring_length)
#define cbor_bytestring_is_definite (cct_dl_cbor_fns.cbor_bytestring_is_definite)
#define cbor_string_handle (cct_dl_cbor_fns.cbor_string_handle)
#define cbor_string_length (cct_dl_cbor_fns.cbor_string_length)
#define cbor_string_is_definite (cct_dl_cbor_fns.cbor_string_is_definite)
#define cbor_array_handle (cct_dl_cbor_fns.cbor_array_handle)
#define cbor_array_size (cct_dl_cbor_fns.cbor_array_size)
#define cbor_array_is_definite (cct_dl_cbor_fns.cbor_array_is_definite)
#define cbor_array_push (cct_dl_cbor_fns.cbor_array_push)
#define cbor_map_handle (cct_dl_cbor_fns.cbor_map_handle)
#define cbor_map_size (cct_dl_cbor_fns.cbor_map_size)
#define cbor_map_is_definite (cct_dl_cbor_fns.cbor_map_is_definite)
#define cbor_map_add (cct_dl_cbor_fns.cbor_map_add)
#define cbor_tag_item (cct_dl_cbor_fns.cbor_tag_item)
#define cbor_tag_value (cct_dl_cbor_fns.cbor_tag_value)
#define cbor_new_definite_array (cct_dl_cbor_fns.cbor_new_definite_array)
#define cbor_new_definite_map (cct_dl_cbor_fns.cbor_new_definite_map)
#define cbor_build_bool (cct_dl_cbor_fns.cbor_build_bool)
#define cbor_build_bytestring (cct_dl_cbor_fns.cbor_build_bytestring)
#define cbor_build_string (cct_dl_cbor_fns.cbor_build_string)
#define cbor_build_tag (cct_dl_cbor_fns.cbor_build_tag)
#define cbor_build_uint8 (cct_dl_cbor_fns.cbor_build_uint8)
#endif

#endif
