/* libFuzzer: what a model's distributor hands over besides the data: the dm-verity hash file's
 * superblock (cct_verity_superblock_parse), the model spec "name@revision:root" and the
 * superblock's UUID text. The first byte picks which. A superblock that parses encodes back to
 * the same 512 bytes (parse checks every field and the zero padding), a spec or UUID that
 * parses formats back to text that parses to the same value. */
#include <stdlib.h>
#include <string.h>

#include "cctrust/core.h"
#include "cctrust/verity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sb[CCT_VERITY_SUPERBLOCK_SIZE], uuid[16], uuid2[16];
	cct_verity_model_spec spec, spec2;
	cct_verity_params p;
	char buf[1024], u[37], *s;
	cct_err err;

	if (size < 1)
		return 0;
	data++;
	size--;
	switch (data[-1] % 3) {
	case 0:
		memset(&p, 0, sizeof(p));
		if (cct_verity_superblock_parse(&p, data, size, &err) == CCT_OK) {
			if (size < CCT_VERITY_SUPERBLOCK_SIZE)
				abort();
			cct_verity_superblock_encode(sb, &p);
			if (memcmp(sb, data, CCT_VERITY_SUPERBLOCK_SIZE))
				abort();
		}
		break;
	case 1:
		s = text(data, size);
		if (cct_verity_model_spec_parse(&spec, s, &err) == CCT_OK) {
			cct_verity_model_spec_format(buf, sizeof(buf), &spec);
			if (cct_verity_model_spec_parse(&spec2, buf, &err) != CCT_OK ||
			    strcmp(spec.name, spec2.name) || strcmp(spec.revision, spec2.revision) ||
			    memcmp(spec.root, spec2.root, sizeof(spec.root)))
				abort();
		}
		free(s);
		break;
	default:
		s = text(data, size);
		if (cct_verity_uuid_parse(uuid, s) == CCT_OK) {
			cct_verity_uuid_format(u, uuid);
			if (cct_verity_uuid_parse(uuid2, u) != CCT_OK || memcmp(uuid, uuid2, 16))
				abort();
		}
		free(s);
	}
	return 0;
}
