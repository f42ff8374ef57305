/* Time parsing, constant-time compare, wiping, bounded file I/O. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cctrust/core.h"

static int digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int cct_parse_long(long *out, const char *s, long min, long max)
{
	char *end = NULL;
	long x;

	if (!s || !*s)
		return CCT_EINVAL;
	errno = 0;
	x = strtol(s, &end, 10);
	if (errno || !end || *end || x < min || x > max)
		return CCT_EINVAL;
	*out = x;
	return CCT_OK;
}

int cct_time_parse(time_t *out, const char *s, cct_err *err)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
	size_t len = s ? strlen(s) : 0;
	const char *p;
	int64_t t;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (len < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d))
		goto bad;
	p = s + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (strlen(p) < 9 || digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi) ||
		    p[6] != ':' || digits(p + 7, 2, &sec))
			goto bad;
		p += 9;
		if (*p == '.') {
			p++;
			if (*p < '0' || *p > '9')
				goto bad;
			while (*p >= '0' && *p <= '9')
				p++;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p == '-' ? -1 : 1;
			if (strlen(p) < 6 || digits(p + 1, 2, &oh) || p[3] != ':' ||
			    digits(p + 4, 2, &om))
				goto bad;
			p += 6;
		} else {
			goto bad;
		}
	}
	if (*p)
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60 ||
	    oh > 23 || om > 59)
		goto bad;
	/* 29 February only in a leap year (Gregorian: every 4th, but not every 100th but every
	 * 400th) */
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		goto bad;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= (int64_t)sign * (oh * 3600 + om * 60);
	*out = (time_t)t;
	return CCT_OK;
bad:
	return cct_err_set(err, CCT_EINVAL, CCT_STAGE_INPUT, 0,
			   "not an RFC 3339 time: '%.40s' (want e.g. 2024-05-01T12:00:00Z)",
			   s ? s : "");
}

void cct_time_format(char *buf, size_t size, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int cct_ct_eq(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint32_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (uint32_t)(x[i] ^ y[i]);
	return (int)(1 & ((d - 1) >> 8));
}

/* explicit_bzero: a memset the compiler may not drop as a dead store, at memset's speed (the
 * byte-at-a-time volatile loop it replaces cost ~20 us per 64 KiB header buffer) */
void cct_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

int cct_is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= b[i];
	return acc == 0;
}

int cct_file_read(uint8_t **out, size_t *out_len, const char *path, size_t max, cct_err *err)
{
	FILE *f;
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0, first = 65536;
	struct stat st;

	*out = NULL;
	*out_len = 0;
	if (!max)
		max = CCT_MAX_INPUT_FILE;
	if (max > SIZE_MAX / 4)
		max = SIZE_MAX / 4; /* max + 2 below stays a size */
	f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot read %s: %s", path,
				   strerror(errno));
	/* a regular file: refused by its size before any read, else read into one buffer of
	 * its size (grown only if it grows meanwhile); a pipe or device: the buffer doubles up
	 * to max + 1 bytes, never further (it used to read up to twice max) */
	if (f != stdin && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > (uint64_t)max) {
			fclose(f);
			return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
					   "%s is larger than the %zu-byte limit", path, max);
		}
		first = (size_t)st.st_size + 1;
	}
	for (;;) {
		size_t got;

		if (n == cap) {
			uint8_t *nb;

			if (cap > max)
				break;
			cap = !cap ? first : cap > max / 2 ? max + 1 : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				if (f != stdin)
					fclose(f);
				return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0,
						   "out of memory reading %s", path);
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		if (f != stdin)
			fclose(f);
		return cct_err_set(err, CCT_EIO, CCT_STAGE_INPUT, 0, "cannot read %s: %s", path,
				   strerror(errno ? errno : EIO));
	}
	if (f != stdin)
		fclose(f);
	if (n > max) {
		free(buf);
		return cct_err_set(err, CCT_ETOOBIG, CCT_STAGE_INPUT, 0,
				   "%s is larger than the %zu-byte limit", path, max);
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return cct_err_set(err, CCT_ENOMEM, CCT_STAGE_INPUT, 0, "out of memory");
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return CCT_OK;
}

/* Write all of data to fd (EINTR retried): 0, or -1 with errno set. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cct_file_same(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!a || !b || stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cct_file_write(const char *path, const void *data, size_t n, int private_, cct_err *err)
{
	char tmp[4096];
	int fd;
	const uint8_t *p = data;
	struct stat st;

	/* a device, FIFO or socket (/dev/null, /dev/stdout, a pipe) is written in place: renaming
	 * a file over it would replace the device node itself (as root, /dev/null) */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0,
					   "cannot write %s: it is a directory", path);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write_all(fd, p, n) != 0) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "cannot write %s: %s",
					   path, strerror(e));
		}
		close(fd);
		return CCT_OK;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return cct_err_set(err, CCT_EINVAL, CCT_STAGE_NONE, 0, "path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, private_ ? 0600 : 0644);
	if (fd < 0)
		return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "cannot write %s: %s", path,
				   strerror(errno));
	if (write_all(fd, p, n) != 0) {
		int e = errno;

		close(fd);
		unlink(tmp);
		return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "cannot write %s: %s", path,
				   strerror(e));
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return cct_err_set(err, CCT_EIO, CCT_STAGE_NONE, 0, "cannot write %s: %s", path,
				   strerror(errno));
	}
	return CCT_OK;
}
