/* Collateral bundles: manifest.json (cctrust.collateral/v1) + the vendors' bytes, in a
 * directory or a tar archive (libarchive). Lookup by kind + key; every read checks the
 * manifest's SHA-256. Validation of what the bytes say is the verifiers' job (src/bundlecheck). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cctrust/collateral.h"
#include "cctrust/core.h"
#include "core/dl_archive.h"
#include "collateral/fetch.h"

static const char *const kind_names[CCT_COLL_KIND_COUNT] = {
	"snp-vcek",        "snp-vlek-chain",  "snp-ask-ark",  "snp-crl",    "tdx-pck-crl",
	"tdx-root-ca-crl", "tdx-tcb-info",    "tdx-qe-identity", "nvidia-rim", "nvidia-ocsp",
};
static const char *const kind_ext[CCT_COLL_KIND_COUNT] = {
	"der", "pem", "pem", "crl", "crl", "crl", "json", "json", "xml", "der",
};

const char *cct_coll_kind_name(cct_coll_kind k)
{
	return (unsigned)k < CCT_COLL_KIND_COUNT ? kind_names[k] : NULL;
}

int cct_coll_kind_from_name(const char *name)
{
	int i;

	for (i = 0; name && i < CCT_COLL_KIND_COUNT; i++)
		if (!strcmp(name, kind_names[i]))
			return i;
	return -1;
}

/* ---- manifest ---- */

static int key_ok(const char *k)
{
	size_t i, n = strlen(k);

	if (n == 0 || n >= CCT_COLLATERAL_MAX_KEY || k[0] == '/' || k[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = k[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '/'))
			return 0;
	}
	return strstr(k, "..") == NULL && strstr(k, "//") == NULL && k[n - 1] != '/';
}

/* a relative path inside the bundle: same charset as keys, no "..", not absolute */
static int path_ok(const char *p)
{
	return p && key_ok(p) && strcmp(p, "manifest.json") != 0;
}

void cct_coll_manifest_clear(cct_coll_manifest *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->count; i++) {
		free(m->items[i].path);
		free(m->items[i].issuer_chain);
		free(m->items[i].source);
	}
	free(m->items);
	m->items = NULL;
	m->count = 0;
}

static int opt_time(time_t *out, json_t *o, const char *name, size_t idx, cct_err *err)
{
	json_t *v = json_object_get(o, name);
	cct_err e;

	*out = 0;
	if (!v || json_is_null(v))
		return CCT_OK;
	if (!json_is_string(v) || cct_time_parse(out, json_string_value(v), &e) != CCT_OK ||
	    *out <= 0) /* 0 means absent; collateral predates nothing before 1970 */
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "manifest item %zu: \"%s\" is not an RFC 3339 time after 1970",
				   idx, name);
	return CCT_OK;
}

static int parse_item(cct_coll_item *it, json_t *o, size_t idx, cct_err *err)
{
	static const char *const known[] = { "kind", "key", "path", "source", "fetched_at",
					     "not_before", "not_after", "next_update", "sha256",
					     "issuer_chain", "issuer_chain_sha256", NULL };
	const char *k, *kind, *key, *path, *sha;
	json_t *v;
	int ki, rc;
	size_t i;

	if (!json_is_object(o))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "manifest item %zu is not an object", idx);
	json_object_foreach(o, k, v) {
		for (i = 0; known[i] && strcmp(known[i], k); i++)
			;
		if (!known[i])
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
					   "manifest item %zu: unknown member \"%.40s\"", idx, k);
	}
	kind = json_string_value(json_object_get(o, "kind"));
	ki = cct_coll_kind_from_name(kind);
	if (ki < 0)
		return cct_err_set(err, kind ? CCT_EUNSUPPORTED : CCT_EFORMAT, CCT_STAGE_COLLATERAL,
				   0, "manifest item %zu: kind \"%.40s\" is not a known kind", idx,
				   kind ? kind : "(missing)");
	it->kind = (cct_coll_kind)ki;
	key = json_string_value(json_object_get(o, "key"));
	if (!key || !key_ok(key))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "manifest item %zu: key missing or not [A-Za-z0-9._-/]", idx);
	snprintf(it->key, sizeof(it->key), "%s", key);
	path = json_string_value(json_object_get(o, "path"));
	if (!path_ok(path))
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "manifest item %zu (%s %s): path missing, absolute or with \"..\"",
				   idx, kind, key);
	it->path = strdup(path);
	sha = json_string_value(json_object_get(o, "sha256"));
	if (!sha || strlen(sha) != 64 || cct_hex_decode_fixed(it->sha256, 32, sha, NULL) != CCT_OK)
		return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				   "manifest item %zu (%s %s): sha256 must be 64 hex digits", idx,
				   kind, key);
	v = json_object_get(o, "source");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v))
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
					   "manifest item %zu: source is not a string", idx);
		it->source = strdup(json_string_value(v));
	}
	v = json_object_get(o, "issuer_chain");
	if (v && !json_is_null(v)) {
		path = json_string_value(v);
		sha = json_string_value(json_object_get(o, "issuer_chain_sha256"));
		if (!path_ok(path) || !sha || strlen(sha) != 64 ||
		    cct_hex_decode_fixed(it->chain_sha256, 32, sha, NULL) != CCT_OK)
			return cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
					   "manifest item %zu: issuer_chain needs a relative path and "
					   "issuer_chain_sha256",
					   idx);
		it->issuer_chain = strdup(path);
	}
	if ((rc = opt_time(&it->fetched_at, o, "fetched_at", idx, err)) != CCT_OK ||
	    (rc = opt_time(&it->not_before, o, "not_before", idx, err)) != CCT_OK ||
	    (rc = opt_time(&it->not_after, o, "not_after", idx, err)) != CCT_OK ||
	    (rc = opt_time(&it->next_update, o, "next_update", idx, err)) != CCT_OK)
		return rc;
	if (!it->path)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
	return CCT_OK;
}

int cct_coll_manifest_parse(cct_coll_manifest *out, const uint8_t *buf, size_t len, cct_err *err)
{
	json_error_t je;
	json_t *root, *items;
	const char *ver;
	size_t i, j;
	int rc = CCT_OK;

	memset(out, 0, sizeof(*out));
	if (len > CCT_COLLATERAL_MAX_MANIFEST)
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_COLLATERAL, 0,
				   "manifest.json is %zu bytes (cap %u)", len,
				   CCT_COLLATERAL_MAX_MANIFEST);
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return cct_err_set(err, CCT_EENCODING, CCT_STAGE_COLLATERAL, je.position,
				   "manifest.json is not JSON: %s (line %d)", je.text, je.line);
	ver = json_string_value(json_object_get(root, "version"));
	if (!json_is_object(root) || !ver) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				 "manifest.json: want an object with \"version\"");
		goto out;
	}
	if (strcmp(ver, CCT_COLLATERAL_VERSION) != 0) {
		rc = cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0,
				 "manifest.json: version \"%.60s\", expected \"%s\"", ver,
				 CCT_COLLATERAL_VERSION);
		goto out;
	}
	{
		const char *k;
		json_t *v;

		json_object_foreach(root, k, v) {
			if (strcmp(k, "version") != 0 && strcmp(k, "items") != 0) {
				rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
						 "manifest.json: unknown member \"%.40s\" (a v1 "
						 "manifest has \"version\" and \"items\" only)",
						 k);
				goto out;
			}
		}
	}
	items = json_object_get(root, "items");
	if (!json_is_array(items)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				 "manifest.json: \"items\" must be an array");
		goto out;
	}
	if (json_array_size(items) > CCT_COLLATERAL_MAX_ITEMS) {
		rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_COLLATERAL, 0,
				 "manifest.json: %zu items (cap %d)", json_array_size(items),
				 CCT_COLLATERAL_MAX_ITEMS);
		goto out;
	}
	out->items = calloc(json_array_size(items) + 1, sizeof(*out->items));
	if (!out->items) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < json_array_size(items); i++) {
		out->count = i + 1;
		rc = parse_item(&out->items[i], json_array_get(items, i), i, err);
		if (rc != CCT_OK)
			goto out;
		for (j = 0; j < i; j++)
			if (out->items[j].kind == out->items[i].kind &&
			    !strcmp(out->items[j].key, out->items[i].key)) {
				rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
						 "manifest item %zu: %s %s appears twice", i,
						 kind_names[out->items[i].kind], out->items[i].key);
				goto out;
			}
	}
out:
	json_decref(root);
	if (rc != CCT_OK)
		cct_coll_manifest_clear(out);
	return rc;
}

static json_t *jtime(time_t t)
{
	char b[32];

	if (!t)
		return json_null();
	cct_time_format(b, sizeof(b), t);
	return json_string(b);
}

static int item_cmp(const void *a, const void *b)
{
	const cct_coll_item *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->key, y->key);
}

char *cct_coll_manifest_dump(const cct_coll_manifest *m)
{
	json_t *root = json_object(), *arr = json_array();
	cct_coll_item *sorted = m->count ? malloc(m->count * sizeof(*sorted)) : NULL;
	char hex[65], *s;
	size_t i;

	if (m->count && sorted) {
		memcpy(sorted, m->items, m->count * sizeof(*sorted));
		qsort(sorted, m->count, sizeof(*sorted), item_cmp);
	}
	json_object_set_new(root, "version", json_string(CCT_COLLATERAL_VERSION));
	for (i = 0; sorted && i < m->count; i++) {
		const cct_coll_item *it = &sorted[i];
		json_t *o = json_object();

		json_object_set_new(o, "kind", json_string(kind_names[it->kind]));
		json_object_set_new(o, "key", json_string(it->key));
		json_object_set_new(o, "path", json_string(it->path));
		json_object_set_new(o, "source", it->source ? json_string(it->source) : json_null());
		json_object_set_new(o, "fetched_at", jtime(it->fetched_at));
		json_object_set_new(o, "not_before", jtime(it->not_before));
		json_object_set_new(o, "not_after", jtime(it->not_after));
		json_object_set_new(o, "next_update", jtime(it->next_update));
		cct_hex_encode(hex, it->sha256, 32);
		json_object_set_new(o, "sha256", json_string(hex));
		if (it->issuer_chain) {
			json_object_set_new(o, "issuer_chain", json_string(it->issuer_chain));
			cct_hex_encode(hex, it->chain_sha256, 32);
			json_object_set_new(o, "issuer_chain_sha256", json_string(hex));
		}
		json_array_append_new(arr, o);
	}
	json_object_set_new(root, "items", arr);
	s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	free(sorted);
	return s;
}

/* ---- bundles ---- */

typedef struct {
	char *name;
	uint8_t *data;
	size_t len;
} tar_file;

struct cct_coll_bundle {
	char *dir;           /* directory bundle (NULL for tar) */
	tar_file *files;     /* tar bundle: every regular file, in memory */
	size_t nfiles;
	cct_coll_manifest m;
};

int cct_coll_is_bundle(const char *path)
{
	struct stat st;
	char p[4096];
	size_t n = strlen(path);

	if (stat(path, &st) != 0)
		return 0;
	if (S_ISDIR(st.st_mode)) {
		snprintf(p, sizeof(p), "%s/manifest.json", path);
		return access(p, R_OK) == 0;
	}
	return S_ISREG(st.st_mode) && n > 4 && !strcmp(path + n - 4, ".tar");
}

static const char *strip_dot(const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	return name;
}

static int load_tar(cct_coll_bundle *b, const char *path, cct_err *err)
{
	struct archive *a;
	struct archive_entry *e;
	size_t total = 0;
	int r, rc = CCT_OK;
	char why[256];

	if (!cct_dl_archive_ok(why, sizeof(why)))
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_INPUT, 0,
				   "bundle %s is a tar file but libarchive is unavailable: %s", path, why);
	a = archive_read_new();
	if (!a)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	archive_read_support_format_tar(a);
	archive_read_support_filter_none(a);
	if (archive_read_open_filename(a, path, 16384) != ARCHIVE_OK) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot read bundle %s: %s",
				 path, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		la_int64_t sz = archive_entry_size(e);
		tar_file *nf, *f;
		ssize_t got;
		size_t i;

		if (archive_entry_filetype(e) != AE_IFREG)
			continue;
		if (sz < 0 || (uint64_t)sz > CCT_COLLATERAL_MAX_ITEM ||
		    total + (size_t)sz > 64u * CCT_COLLATERAL_MAX_ITEM ||
		    b->nfiles >= 2 * CCT_COLLATERAL_MAX_ITEMS + 1) {
			rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
					 "bundle %s: entry %.80s too big or too many entries", path,
					 archive_entry_pathname(e));
			goto out;
		}
		/* a name twice is ambiguous (tar x keeps the last, a reader may take the first):
		 * refused, whichever copy its digest would match */
		for (i = 0; i < b->nfiles; i++)
			if (!strcmp(b->files[i].name, strip_dot(archive_entry_pathname(e)))) {
				rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_INPUT, 0,
						 "bundle %s: entry %.80s appears more than once", path,
						 b->files[i].name);
				goto out;
			}
		nf = realloc(b->files, (b->nfiles + 1) * sizeof(*nf));
		if (!nf) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
			goto out;
		}
		b->files = nf;
		f = &b->files[b->nfiles];
		f->name = strdup(strip_dot(archive_entry_pathname(e)));
		f->data = malloc((size_t)sz + 1);
		f->len = (size_t)sz;
		b->nfiles++;
		if (!f->name || !f->data) {
			rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
			goto out;
		}
		got = sz ? archive_read_data(a, f->data, (size_t)sz) : 0;
		if (got != (ssize_t)sz) {
			rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
					 "bundle %s: entry %s is truncated", path, f->name);
			goto out;
		}
		total += (size_t)sz;
	}
	if (r != ARCHIVE_EOF)
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "bundle %s: %s", path,
				 archive_error_string(a));
out:
	archive_read_free(a);
	return rc;
}

static const tar_file *tar_find(const cct_coll_bundle *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->nfiles; i++)
		if (!strcmp(b->files[i].name, name))
			return &b->files[i];
	return NULL;
}

/* A directory bundle's file, NUL-terminated. Opened without blocking, so that a FIFO or a
 * device put in the bundle can never hang a reader (collateral check, a verifier, serve), and
 * refused unless it is a regular file of at most max bytes. Symbolic links are followed, as
 * they always were (a bundle may be assembled from links). */
static int read_regular(uint8_t **out, size_t *len, const char *path, const char *rel, size_t max,
			cct_err *err)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t n = 0, cap;
	int fd, rc = CCT_ERROR;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0,
				   "bundle file %s: cannot open %s: %s", rel, path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0,
				 "bundle file %s: cannot stat %s: %s", rel, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = cct_err_set(err, CCT_EFORMAT, CCT_STAGE_COLLATERAL, 0,
				 "bundle file %s is not a regular file (%s); a bundle holds regular "
				 "files only",
				 rel,
				 S_ISFIFO(st.st_mode)  ? "a FIFO"
				 : S_ISDIR(st.st_mode) ? "a directory"
				 : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
				 : S_ISSOCK(st.st_mode) ? "a socket"
							: "not a plain file");
		goto out;
	}
	if ((uint64_t)st.st_size > (uint64_t)max) {
		rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_COLLATERAL, 0,
				 "bundle file %s is %lld bytes, more than the %zu-byte limit", rel,
				 (long long)st.st_size, max);
		goto out;
	}
	/* one byte more than its size: a file that grew meanwhile is seen, up to max + 1 */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t got = read(fd, buf + n, cap - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0,
					 "bundle file %s: read failed: %s", rel, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n == cap) {
			uint8_t *nb;

			if (n > max) {
				rc = cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_COLLATERAL, 0,
						 "bundle file %s grew past the %zu-byte limit while "
						 "being read",
						 rel, max);
				goto out;
			}
			cap = cap > max / 2 ? max + 1 : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0,
						 "out of memory");
				goto out;
			}
			buf = nb;
		}
	}
	buf[n] = 0;
	*out = buf;
	*len = n;
	buf = NULL;
	rc = CCT_OK;
out:
	free(buf);
	close(fd);
	return rc;
}

/* bytes of a bundle file (relative name) */
static int read_rel(const cct_coll_bundle *b, const char *rel, uint8_t **out, size_t *len,
		    size_t max, cct_err *err)
{
	char p[4096];

	if (b->dir) {
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", b->dir, rel) >= sizeof(p))
			return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_COLLATERAL, 0,
					   "bundle file %.80s: path too long", rel);
		return read_regular(out, len, p, rel, max, err);
	} else {
		const tar_file *f = tar_find(b, rel);

		if (!f)
			return cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0,
					   "bundle has no file %s", rel);
		*out = malloc(f->len + 1);
		if (!*out)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		memcpy(*out, f->data, f->len);
		(*out)[f->len] = 0;
		*len = f->len;
		return CCT_OK;
	}
}

void cct_coll_bundle_free(cct_coll_bundle *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->nfiles; i++) {
		free(b->files[i].name);
		free(b->files[i].data);
	}
	free(b->files);
	free(b->dir);
	cct_coll_manifest_clear(&b->m);
	free(b);
}

int cct_coll_bundle_open(cct_coll_bundle **out, const char *path, int create, cct_err *err)
{
	cct_coll_bundle *b = calloc(1, sizeof(*b));
	struct stat st;
	uint8_t *buf = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if (!b)
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	if (stat(path, &st) != 0) {
		if (!create) {
			free(b);
			return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
					   "collateral bundle %s does not exist", path);
		}
		if (mkdir(path, 0755) != 0) {
			free(b);
			return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot create %s: %s",
					   path, strerror(errno));
		}
		b->dir = strdup(path);
		*out = b;
		return b->dir ? CCT_OK
			      : cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		/* the tar itself, like every file in a bundle, must be a regular file: a FIFO
		 * without a writer used to block `collateral check` (and fetch -o, serve) for ever */
		free(b);
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0,
				   "collateral bundle %s is not a directory or a regular .tar file (%s); "
				   "it was not read",
				   path, S_ISFIFO(st.st_mode) ? "a FIFO"
				   : S_ISSOCK(st.st_mode) ? "a socket"
							  : "a device");
	}
	if (S_ISDIR(st.st_mode)) {
		char p[4096];

		b->dir = strdup(path);
		snprintf(p, sizeof(p), "%s/manifest.json", path);
		if (create && access(p, F_OK) != 0) {
			*out = b; /* an empty directory becomes a bundle */
			return CCT_OK;
		}
		rc = read_rel(b, "manifest.json", &buf, &n, CCT_COLLATERAL_MAX_MANIFEST, err);
	} else {
		rc = load_tar(b, path, err);
		if (rc == CCT_OK)
			rc = read_rel(b, "manifest.json", &buf, &n, CCT_COLLATERAL_MAX_MANIFEST, err);
	}
	if (rc == CCT_OK)
		rc = cct_coll_manifest_parse(&b->m, buf, n, err);
	free(buf);
	if (rc != CCT_OK) {
		cct_coll_bundle_free(b);
		return rc;
	}
	*out = b;
	return CCT_OK;
}

const cct_coll_manifest *cct_coll_bundle_manifest(const cct_coll_bundle *b)
{
	return &b->m;
}

const cct_coll_item *cct_coll_bundle_find(const cct_coll_bundle *b, cct_coll_kind kind,
					  const char *key)
{
	size_t i;

	for (i = 0; b && key && i < b->m.count; i++)
		if (b->m.items[i].kind == kind && !strcmp(b->m.items[i].key, key))
			return &b->m.items[i];
	return NULL;
}

static void sha256(uint8_t out[32], const uint8_t *p, size_t n)
{
	unsigned int l = 32;

	EVP_Digest(p, n, out, &l, EVP_sha256(), NULL);
}

int cct_coll_bundle_read(const cct_coll_bundle *b, const cct_coll_item *it, uint8_t **body,
			 size_t *len, uint8_t **chain, size_t *chain_len, cct_err *err)
{
	uint8_t d[32];
	int rc;

	*body = NULL;
	*len = 0;
	if (chain) {
		*chain = NULL;
		*chain_len = 0;
	}
	rc = read_rel(b, it->path, body, len, CCT_COLLATERAL_MAX_ITEM, err);
	if (rc != CCT_OK)
		return rc;
	sha256(d, *body, *len);
	if (memcmp(d, it->sha256, 32) != 0) {
		free(*body);
		*body = NULL;
		return cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_COLLATERAL, 0,
				   "bundle item %s %s (%s): SHA-256 differs from the manifest (the "
				   "file was altered)",
				   kind_names[it->kind], it->key, it->path);
	}
	if (chain && it->issuer_chain) {
		rc = read_rel(b, it->issuer_chain, chain, chain_len, CCT_COLLATERAL_MAX_ITEM, err);
		if (rc == CCT_OK) {
			sha256(d, *chain, *chain_len);
			if (memcmp(d, it->chain_sha256, 32) != 0)
				rc = cct_err_set(err, CCT_ESIGNATURE, CCT_STAGE_COLLATERAL, 0,
						 "bundle item %s %s: issuer chain %s differs from "
						 "the manifest",
						 kind_names[it->kind], it->key, it->issuer_chain);
		}
		if (rc != CCT_OK) {
			free(*body);
			free(*chain);
			*body = *chain = NULL;
			return rc;
		}
	}
	return CCT_OK;
}

static int write_rel(const cct_coll_bundle *b, const char *rel, const uint8_t *p, size_t n,
		     cct_err *err)
{
	char path[4096], tmp[4200];

	snprintf(path, sizeof(path), "%s/%s", b->dir, rel);
	snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	if (cct_mkdirs_for(path) != 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0, "cannot create %s", path);
	if (cct_file_write(tmp, p, n, 0, err) != CCT_OK)
		return CCT_EIO;
	if (rename(tmp, path) != 0) {
		unlink(tmp);
		return cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0, "cannot write %s: %s",
				   path, strerror(errno));
	}
	return CCT_OK;
}

int cct_coll_bundle_put(cct_coll_bundle *b, const cct_coll_item *in, const uint8_t *body,
			size_t len, const uint8_t *chain, size_t chain_len, cct_err *err)
{
	cct_coll_item *it = (cct_coll_item *)cct_coll_bundle_find(b, in->kind, in->key);
	char rel[512], crel[512], *man;
	int rc;

	if (!b->dir)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0,
				   "a tar bundle is read-only; fetch into a directory");
	if (!key_ok(in->key) || (unsigned)in->kind >= CCT_COLL_KIND_COUNT)
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0, "bad item key");
	snprintf(rel, sizeof(rel), "%s/%s.%s", kind_names[in->kind], in->key, kind_ext[in->kind]);
	snprintf(crel, sizeof(crel), "%s/%s.issuer-chain.pem", kind_names[in->kind], in->key);
	rc = write_rel(b, rel, body, len, err);
	if (rc == CCT_OK && chain)
		rc = write_rel(b, crel, chain, chain_len, err);
	if (rc != CCT_OK)
		return rc;
	if (!it) {
		cct_coll_item *ni = realloc(b->m.items, (b->m.count + 1) * sizeof(*ni));

		if (!ni)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
		b->m.items = ni;
		it = &b->m.items[b->m.count++];
		memset(it, 0, sizeof(*it));
	}
	free(it->path);
	free(it->issuer_chain);
	free(it->source);
	*it = *in;
	it->path = strdup(rel);
	it->issuer_chain = chain ? strdup(crel) : NULL;
	it->source = in->source ? strdup(in->source) : NULL;
	sha256(it->sha256, body, len);
	if (chain)
		sha256(it->chain_sha256, chain, chain_len);
	man = cct_coll_manifest_dump(&b->m);
	if (!man || !it->path)
		rc = cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
	else
		rc = write_rel(b, "manifest.json", (const uint8_t *)man, strlen(man), err);
	free(man);
	return rc;
}

static int tar_add(struct archive *a, const char *name, const uint8_t *p, size_t n)
{
	struct archive_entry *e = archive_entry_new();
	int ok;

	if (!e)
		return -1;
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)n);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	ok = archive_write_header(a, e) == ARCHIVE_OK &&
	     (n == 0 || archive_write_data(a, p, n) == (la_ssize_t)n);
	archive_entry_free(e);
	return ok ? 0 : -1;
}

/* The archive is written next to path and renamed over it only when complete: a failure half
 * way (an item that cannot be read, a full disk) used to leave a truncated tar in place of the
 * bundle it was rebuilding. A device or FIFO is written in place (renaming over it would
 * replace the node itself), as cct_file_write does. */
int cct_coll_bundle_write_tar(const cct_coll_bundle *b, const char *path, cct_err *err)
{
	struct archive *a;
	char *man, why[256], tmp[4096];
	struct stat st;
	size_t i;
	int rc = CCT_OK, fd = -1, in_place;

	if (!cct_dl_archive_ok(why, sizeof(why)))
		return cct_err_set(err, CCT_EUNSUPPORTED, CCT_STAGE_COLLATERAL, 0,
				   "cannot write %s: libarchive is unavailable: %s", path, why);
	a = archive_write_new();
	man = cct_coll_manifest_dump(&b->m);

	if (!a || !man) {
		archive_write_free(a);
		free(man);
		return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_COLLATERAL, 0, "out of memory");
	}
	archive_write_set_format_pax_restricted(a);
	in_place = stat(path, &st) == 0 && !S_ISREG(st.st_mode);
	if (in_place && S_ISDIR(st.st_mode))
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0,
				 "cannot write %s: it is a directory", path);
	else if (!in_place && snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
				      (int)sizeof(tmp))
		rc = cct_err_set(err, CCT_EINVAL, CCT_STAGE_COLLATERAL, 0,
				 "cannot write %s: path too long", path);
	else if ((fd = open(in_place ? path : tmp,
			    in_place ? O_WRONLY | O_CLOEXEC
				     : O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			    0644)) < 0)
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0, "cannot write %s: %s", path,
				 strerror(errno));
	else if (archive_write_open_fd(a, fd) != ARCHIVE_OK)
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0, "cannot write %s: %s", path,
				 archive_error_string(a));
	if (rc == CCT_OK && tar_add(a, "manifest.json", (const uint8_t *)man, strlen(man)))
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0, "writing %s failed", path);
	for (i = 0; rc == CCT_OK && i < b->m.count; i++) {
		const cct_coll_item *it = &b->m.items[i];
		const char *names[2] = { it->path, it->issuer_chain };
		int k;

		for (k = 0; k < 2 && rc == CCT_OK; k++) {
			uint8_t *p = NULL;
			size_t n = 0;

			if (!names[k])
				continue;
			rc = read_rel(b, names[k], &p, &n, CCT_COLLATERAL_MAX_ITEM, err);
			if (rc == CCT_OK && tar_add(a, names[k], p, n))
				rc = cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0,
						 "writing %s failed", path);
			free(p);
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK && rc == CCT_OK)
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0, "writing %s failed", path);
	archive_write_free(a);
	free(man);
	if (fd < 0)
		return rc;
	if (rc == CCT_OK && !in_place && fsync(fd) != 0)
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0, "cannot write %s: %s", path,
				 strerror(errno));
	if (close(fd) != 0 && rc == CCT_OK)
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0, "cannot write %s: %s", path,
				 strerror(errno));
	if (!in_place && rc == CCT_OK && rename(tmp, path) != 0)
		rc = cct_err_set(err, CCT_EIO, CCT_STAGE_COLLATERAL, 0, "cannot write %s: %s", path,
				 strerror(errno));
	if (!in_place && rc != CCT_OK)
		unlink(tmp); /* the previous bundle, if any, stays as it was */
	return rc;
}

/* ---- source ---- */

static int bundle_get(void *ctx, cct_coll_kind kind, const char *key, uint8_t **body, size_t *len,
		      uint8_t **chain, size_t *chain_len, cct_err *err)
{
	cct_coll_bundle *b = ctx;
	const cct_coll_item *it = cct_coll_bundle_find(b, kind, key);
	int rc;

	if (!it)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "the collateral bundle has no %s item for key %s",
				   cct_coll_kind_name(kind), key);
	rc = cct_coll_bundle_read(b, it, body, len, chain, chain_len, err);
	if (rc == CCT_OK)
		cct_collateral_count_hit();
	return rc;
}

void cct_coll_bundle_source(cct_collateral_source *src, cct_coll_bundle *b)
{
	src->ctx = b;
	src->get = bundle_get;
}

int cct_coll_get(const cct_collateral_source *src, cct_coll_kind kind, const char *key,
		 uint8_t **body, size_t *len, uint8_t **chain, size_t *chain_len, cct_err *err)
{
	*body = NULL;
	*len = 0;
	if (chain) {
		*chain = NULL;
		*chain_len = 0;
	}
	if (!src || !src->get)
		return cct_err_set(err, CCT_ECOLLATERAL, CCT_STAGE_COLLATERAL, 0,
				   "no collateral source");
	return src->get(src->ctx, kind, key, body, len, chain, chain_len, err);
}
