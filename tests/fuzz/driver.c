/* driver: a self-contained fuzzing driver for LLVMFuzzerTestOneInput().
 *
 * Linked with each fuzz target when the build does not use libFuzzer
 * (meson -Dfuzzing=driver, the default), so that the targets run with
 * nothing but the gcc toolchain:
 *
 *   1. every file of the seed corpus runs once (tests/fuzz/corpus/<name>,
 *      or the directories/files given on the command line);
 *   2. then mutated inputs run, until an iteration count or a wall-clock
 *      budget is reached. Mutations are drawn from a PRNG seeded with
 *      --seed, so a run is repeatable: bit flips, random bytes, byte
 *      insertion and deletion, interesting integers (binary and as
 *      decimal text), truncation, splicing two inputs, copying and
 *      repeating blocks (deep nesting needs long inputs), and the
 *      target's dictionary tokens (tests/fuzz/dict/<name>.dict, in the
 *      libFuzzer/AFL format, so libFuzzer can use the same file).
 *
 * When the code under test is built with -fsanitize-coverage=trace-pc
 * (gcc and clang both have it), this file provides the callback and keeps
 * an AFL-style map of edges: an input that reaches a new edge (or an edge
 * a new number of times) joins the pool that later mutations start from.
 * Without it every mutation starts from a seed.
 *
 * Failures. A crash (signal), a sanitizer report (through the sanitizers'
 * death callback), a property violation in the target (fuzz_fail aborts)
 * or an input that runs longer than --timeout stops the run; the input
 * is written to <artifact dir>/<kind>-<name>-<hash>, its first bytes are
 * printed in hex together with the seed, and the exit status is non-zero.
 * `--replay FILE` runs saved inputs again. Leaks: with LeakSanitizer the
 * driver checks for leaks every few seconds; when one shows up it finds
 * the input responsible by replaying the inputs since the last clean
 * check in child processes (bisection), and reports that input.
 *
 * With --tap the output is TAP for `meson test` (one test for the corpus,
 * one for the mutations). This file uses libc only: it must keep working
 * in a signal handler after the code under test has corrupted the heap.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME (the target's name) must be defined by tests/fuzz/meson.build"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

/* The sanitizers' runtime interface, present only when one is linked. */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Defaults for a plain run, and for the short run `meson test` does. */
#define DEFAULT_ITERATIONS 10000
#define DEFAULT_SECONDS 60.0
#define SHORT_ITERATIONS 5000
#define SHORT_SECONDS 15.0
/* Long enough for deep nesting and big arrays, short enough that yajl's
 * array and object growth (a realloc per element, each a copy under ASan,
 * quadratic; linear with glibc's realloc) stays far below the timeout. */
#define DEFAULT_MAX_LEN (64 * 1024)
#define DEFAULT_TIMEOUT 10
/* A seed file larger than this is a mistake, not a seed. */
#define MAX_FILE_SIZE (16 * 1024 * 1024)
/* The pool of inputs mutations start from. */
#define POOL_MAX_UNITS 8192
#define POOL_MAX_BYTES (128u * 1024 * 1024)
/* Mutated inputs longer than this run, but never join the pool: a pool of
 * huge inputs would make every later run slow. Long inputs come from the
 * repeat mutation of a short one whenever they are needed. */
#define POOL_MAX_UNIT_LEN (32 * 1024)
/* Leak checks: at most this often, and at the latest after this many
 * inputs or bytes have been kept for the bisection. */
#define LEAK_CHECK_SECONDS 2.0
#define LEAK_RING_MAX_UNITS 4096
#define LEAK_RING_MAX_BYTES (64u * 1024 * 1024)
/* Exit status of an input that ran longer than --timeout. */
#define EXIT_TIMEOUT 70

typedef struct {
	uint8_t *data;
	size_t len;
} Unit;

typedef struct {
	Unit *units;
	size_t n, cap;
	size_t bytes;
} UnitList;

typedef struct {
	uint64_t seed;
	long iterations; /* < 0: no limit */
	double seconds;	 /* <= 0: no limit */
	size_t max_len;
	unsigned timeout;
	int tap;
	int quiet;
	const char *artifact_dir;
	const char *save_dir;
	const char *dict_path;
	const char **corpus;
	size_t n_corpus;
	const char **replay;
	size_t n_replay;
} Options;

/* ---- crash reporting (async-signal-safe) ---------------------------------- */

static const char *argv0;
static const uint8_t *cur_data; /* the input that is running, or NULL */
static size_t cur_len;
static char cur_what[96]; /* "seed <file>", "iteration <n>" */
static uint64_t run_seed;
static const char *artifact_dir = ".";
static int tap_mode;
static int tap_test = 1; /* the TAP test a failure belongs to */
static int replay_mode;
static volatile sig_atomic_t reported;

static void put(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

/* Decimal or hex text of v in buf (at least 24 bytes); returns buf. */
static char *fmt_u64(char *buf, uint64_t v, int base, int width)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % (uint64_t)base];
		v /= (uint64_t)base;
	} while (v > 0 && n < 23);
	while (n < width && n < 23)
		tmp[n++] = '0';
	for (int i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return buf;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* Appends to a fixed buffer, truncating. */
static void cat(char *buf, size_t size, const char *s)
{
	size_t used = strlen(buf);

	while (*s != '\0' && used + 1 < size)
		buf[used++] = *s++;
	buf[used] = '\0';
}

/* Writes the input to <artifact_dir>/<kind>-<name>-<hash>; path gets the name. */
static int save_artifact(const char *kind, const uint8_t *data, size_t len, char *path, size_t size)
{
	char num[24];
	int fd;

	path[0] = '\0';
	cat(path, size, artifact_dir);
	cat(path, size, "/");
	cat(path, size, kind);
	cat(path, size, "-" FUZZ_NAME "-");
	cat(path, size, fmt_u64(num, fnv1a(data, len), 16, 16));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	close(fd);
	return 0;
}

static void put_hex_preview(const uint8_t *data, size_t len)
{
	char line[3 * 32 + 2];
	size_t shown = len < 512 ? len : 512;

	put(2, "==fuzz== input bytes (hex):\n");
	for (size_t i = 0; i < shown; i += 32) {
		size_t k = 0;
		for (size_t j = i; j < shown && j < i + 32; j++) {
			line[k++] = "0123456789abcdef"[data[j] >> 4];
			line[k++] = "0123456789abcdef"[data[j] & 15];
			line[k++] = ' ';
		}
		line[k++] = '\n';
		line[k] = '\0';
		put(2, "  ");
		put(2, line);
	}
	if (shown < len)
		put(2, "  ... (the whole input is in the file above)\n");
}

/* Reports a failed input: saved, described, reproducible. Runs from a
 * signal handler or a sanitizer's death callback. */
static void report_input(const char *kind, const uint8_t *data, size_t len, const char *what)
{
	char path[PATH_MAX];
	char num[24];

	put(2, "\n==fuzz== ");
	put(2, kind);
	put(2, " in target " FUZZ_NAME " on ");
	put(2, what);
	put(2, " (--seed ");
	put(2, fmt_u64(num, run_seed, 10, 0));
	put(2, ")\n");
	if (replay_mode) {
		put(2, "==fuzz== (a replayed file: not saved again)\n");
		path[0] = '\0';
	} else if (save_artifact(kind, data, len, path, sizeof path) == 0) {
		put(2, "==fuzz== input (");
		put(2, fmt_u64(num, len, 10, 0));
		put(2, " bytes) saved to ");
		put(2, path);
		put(2, "\n==fuzz== reproduce with: ");
		put(2, argv0);
		put(2, " --replay ");
		put(2, path);
		put(2, "\n");
	} else {
		put(2, "==fuzz== could not save the input in ");
		put(2, artifact_dir);
		put(2, "\n");
	}
	put_hex_preview(data, len);
	if (tap_mode) {
		put(1, "not ok ");
		put(1, fmt_u64(num, (uint64_t)tap_test, 10, 0));
		put(1, " - ");
		put(1, kind);
		put(1, " on ");
		put(1, what);
		put(1, ", input saved to ");
		put(1, path);
		put(1, "\n");
	}
}

static void report_current(const char *kind)
{
	if (reported)
		return;
	reported = 1;
	if (cur_data != NULL) {
		report_input(kind, cur_data, cur_len, cur_what);
		return;
	}
	/* LeakSanitizer's check at exit ends up here too */
	if (replay_mode) {
		put(2, "\n==fuzz== the replayed input(s) leaked: see the report above\n");
		return;
	}
	put(2, "\n==fuzz== sanitizer report while no input was running (a leak found at exit, or a bug in the"
	       " target's set-up): see the report above\n");
	if (tap_mode) {
		char num[24];
		put(1, "not ok ");
		put(1, fmt_u64(num, (uint64_t)tap_test, 10, 0));
		put(1, " - sanitizer report outside of any input\n");
	}
}

static void on_sanitizer_death(void)
{
	report_current("crash");
}

static void on_fatal_signal(int sig)
{
	if (sig == SIGALRM) {
		report_current("timeout");
		_exit(EXIT_TIMEOUT);
	}
	report_current("crash");
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_handlers(void)
{
	static uint8_t altstack[64 * 1024];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
	struct sigaction sa = {.sa_handler = on_fatal_signal, .sa_flags = SA_ONSTACK};
	/* The sanitizers handle SIGSEGV, SIGBUS and SIGFPE themselves (with a
	 * better report) and call the death callback; replacing their handlers
	 * would lose that. They leave SIGABRT (failed assertions, fuzz_fail)
	 * and SIGALRM (our timeout) to us. */
#ifdef HAVE_ASAN
	static const int sigs[] = {SIGABRT, SIGALRM};
#else
	static const int sigs[] = {SIGABRT, SIGALRM, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
#endif

	(void)sigaltstack(&ss, NULL);
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		(void)sigaction(sigs[i], &sa, NULL);
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(on_sanitizer_death);
}

/* Sanitizer defaults, which ASAN_OPTIONS/UBSAN_OPTIONS still override: an
 * allocation of gigabytes because of an input is a bug too. */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

/* abort_on_error: gcc links the ASan and UBSan runtimes separately, and
 * only one of them calls the death callback; an abort reaches our SIGABRT
 * handler from either. */
const char *__asan_default_options(void)
{
	return "max_allocation_size_mb=2048:allocator_may_return_null=0:abort_on_error=1";
}

const char *__ubsan_default_options(void)
{
	return "print_stacktrace=1:halt_on_error=1:abort_on_error=1";
}

/* ---- coverage (gcc/clang -fsanitize-coverage=trace-pc) ----------------------- */

#define COV_BITS 16
#define COV_SIZE (1u << COV_BITS)

static uint8_t cov_map[COV_SIZE] __attribute__((aligned(64))); /* this input's edge hit counts */
static uint8_t cov_seen[COV_SIZE]; /* hit-count classes seen so far, per edge */
static uintptr_t cov_prev;
static int cov_used; /* the callback ran at least once: code is instrumented */

void __sanitizer_cov_trace_pc(void);

/* Called at every basic block of instrumented code: the edge is the
 * hashed pair (previous block, this block), as AFL does. */
__attribute__((no_sanitize("address", "undefined"))) void __sanitizer_cov_trace_pc(void)
{
	uintptr_t pc = (uintptr_t)__builtin_return_address(0);
	uintptr_t cur = (uintptr_t)(((uint64_t)pc * 0x9E3779B97F4A7C15ull) >> (64 - COV_BITS));

	cov_map[(cur ^ cov_prev) & (COV_SIZE - 1)]++;
	cov_prev = cur >> 1;
	cov_used = 1;
}

/* AFL's hit-count classes: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
static uint8_t count_class(uint8_t n)
{
	if (n <= 2)
		return n;
	if (n == 3)
		return 4;
	if (n < 8)
		return 8;
	if (n < 16)
		return 16;
	if (n < 32)
		return 32;
	if (n < 128)
		return 64;
	return 128;
}

/* Folds this input's map into the seen map; returns the number of edges
 * (or hit-count classes) never seen before. */
static size_t cov_collect(void)
{
	size_t fresh = 0;
	const uint64_t *words = (const uint64_t *)(const void *)cov_map;

	for (size_t w = 0; w < COV_SIZE / 8; w++) {
		if (words[w] == 0)
			continue;
		for (size_t i = w * 8; i < w * 8 + 8; i++) {
			uint8_t c = count_class(cov_map[i]);
			if (c & ~cov_seen[i]) {
				cov_seen[i] |= c;
				fresh++;
			}
		}
	}
	return fresh;
}

static size_t cov_edges(void)
{
	size_t n = 0;

	for (size_t i = 0; i < COV_SIZE; i++)
		n += cov_seen[i] != 0;
	return n;
}

/* ---- running one input -------------------------------------------------------- */

static unsigned input_timeout;

/* A heap copy of exactly len bytes (one byte for none). */
static uint8_t *copy_bytes(const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);

	if (copy == NULL) {
		perror("fuzz: malloc");
		exit(2);
	}
	if (len > 0)
		memcpy(copy, data, len);
	return copy;
}

/* Runs the target on a private heap copy of exactly len bytes, so that a
 * read past the end is an AddressSanitizer report. */
static void run_input(const uint8_t *data, size_t len, const char *what)
{
	uint8_t *copy = copy_bytes(data, len);

	snprintf(cur_what, sizeof cur_what, "%s", what);
	memset(cov_map, 0, sizeof cov_map);
	cov_prev = 0;
	cur_len = len;
	cur_data = copy;
	if (input_timeout > 0)
		alarm(input_timeout);
	LLVMFuzzerTestOneInput(copy, len);
	if (input_timeout > 0)
		alarm(0);
	cur_data = NULL;
	free(copy);
}

/* ---- files ------------------------------------------------------------------- */

static int read_file(const char *path, Unit *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE_SIZE) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	out->len = (size_t)st.st_size;
	out->data = malloc(out->len > 0 ? out->len : 1);
	for (size_t off = 0; out->data != NULL && off < out->len;) {
		ssize_t r = read(fd, out->data + off, out->len - off);
		if (r <= 0) {
			out->len = off;
			break;
		}
		off += (size_t)r;
	}
	close(fd);
	return out->data != NULL ? 0 : -1;
}

static void list_add(UnitList *l, uint8_t *data, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->units = realloc(l->units, l->cap * sizeof *l->units);
		if (l->units == NULL) {
			perror("fuzz: realloc");
			exit(2);
		}
	}
	l->units[l->n++] = (Unit){data, len};
	l->bytes += len;
}

static void list_add_copy(UnitList *l, const uint8_t *data, size_t len)
{
	list_add(l, copy_bytes(data, len), len);
}

static void list_clear(UnitList *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->units[i].data);
	l->n = 0;
	l->bytes = 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a directory (not recursive, no dot files), sorted by name so
 * that the order, and so the run, does not depend on the file system.
 * A path that is a file is itself. Appends copies of the paths to *out. */
static void collect_paths(const char *path, char ***out, size_t *n)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	size_t first = *n;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s: %s: %s\n", argv0, path, strerror(errno));
		exit(2);
	}
	if (!S_ISDIR(st.st_mode)) {
		*out = realloc(*out, (*n + 1) * sizeof **out);
		(*out)[(*n)++] = strdup(path);
		return;
	}
	d = opendir(path);
	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		*out = realloc(*out, (*n + 1) * sizeof **out);
		size_t len = strlen(path) + strlen(e->d_name) + 2;
		(*out)[*n] = malloc(len);
		snprintf((*out)[*n], len, "%s/%s", path, e->d_name);
		(*n)++;
	}
	if (d != NULL)
		closedir(d);
	qsort(*out + first, *n - first, sizeof **out, compare_names);
}

/* ---- the dictionary (libFuzzer/AFL format) --------------------------------- */

/* One line: [name=]"value", value with \\, \" and \xNN escapes. */
static int parse_dict_line(const char *line, Unit *out)
{
	const char *q = strchr(line, '"');
	uint8_t buf[256];
	size_t n = 0;

	if (q == NULL)
		return -1;
	for (const char *p = q + 1; *p != '\0' && *p != '"' && n < sizeof buf; p++) {
		if (*p != '\\') {
			buf[n++] = (uint8_t)*p;
			continue;
		}
		p++;
		if (*p == 'x' && p[1] != '\0' && p[2] != '\0') {
			char hex[3] = {p[1], p[2], '\0'};
			buf[n++] = (uint8_t)strtoul(hex, NULL, 16);
			p += 2;
		} else if (*p != '\0') {
			buf[n++] = (uint8_t)*p;
		} else {
			return -1;
		}
	}
	if (n == 0)
		return -1;
	out->data = malloc(n);
	memcpy(out->data, buf, n);
	out->len = n;
	return 0;
}

static void load_dict(const char *path, UnitList *dict)
{
	FILE *f = path != NULL ? fopen(path, "re") : NULL;
	char line[1024];

	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		const char *p = line + strspn(line, " \t");
		Unit u;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (parse_dict_line(p, &u) == 0)
			list_add(dict, u.data, u.len);
	}
	fclose(f);
}

/* ---- mutations ------------------------------------------------------------------ */

typedef struct {
	uint64_t s;
} Rng;

/* splitmix64: small, fast, and the same sequence on every platform. */
static uint64_t rng_next(Rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static size_t rng_below(Rng *r, size_t n)
{
	return n > 0 ? (size_t)(rng_next(r) % n) : 0;
}

/* A length for a block: mostly small, sometimes up to `max`. */
static size_t rng_block_len(Rng *r, size_t max)
{
	size_t n;

	if (max == 0)
		return 0;
	n = rng_below(r, 4) != 0 ? 1 + rng_below(r, 8) : 1 + rng_below(r, max);
	return n < max ? n : max;
}

typedef struct {
	Rng rng;
	uint8_t *buf;
	size_t len, cap;
	const UnitList *dict;
	const UnitList *pool;
} Mutator;

static const int64_t interesting[] = {
    0,	     1,		 -1,	      16,	   32,		64,	     100,	  127,
    -128,    128,	 255,	      256,	   512,		1000,	     1024,	  4096,
    32767,   -32768,	 65535,	      65536,	   100000,	2147483647,  -2147483647 - 1, 4294967295LL,
    4294967296LL, INT64_MAX, INT64_MIN,
};

/* Decimal forms at the edges of the integer types the parsers convert to. */
static const char *const interesting_text[] = {
    "0",	  "-0",		 "1",	       "-1",	      "00",	     "01",
    "255",	  "256",	 "65535",      "65536",	      "1000",	     "1001",
    "2147483647", "2147483648",	 "-2147483648", "-2147483649", "4294967295", "4294967296",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "99999999999999999999999", "1e3",
    "1.5",	  "-1e309",	 "0x10",       "1_000",	      "+1",	     "NaN",
};

/* Characters every text format here cares about. */
static const char text_chars[] = "{}[]\"',:=#\\\n\r\t .-+_/0123456789abcdefnrtuxAZ\xc3\xa9\x00\x7f\xff";

static void insert_at(Mutator *m, size_t pos, const uint8_t *data, size_t n)
{
	if (m->len + n > m->cap)
		n = m->cap - m->len;
	if (n == 0)
		return;
	memmove(m->buf + pos + n, m->buf + pos, m->len - pos);
	memmove(m->buf + pos, data, n);
	m->len += n;
}

static void erase_at(Mutator *m, size_t pos, size_t n)
{
	memmove(m->buf + pos, m->buf + pos + n, m->len - pos - n);
	m->len -= n;
}

static void overwrite_at(Mutator *m, size_t pos, const uint8_t *data, size_t n)
{
	if (pos + n > m->len) {
		if (pos + n > m->cap)
			n = m->cap - pos;
		m->len = pos + n;
	}
	memmove(m->buf + pos, data, n);
}

static void mut_flip_bit(Mutator *m)
{
	if (m->len > 0)
		m->buf[rng_below(&m->rng, m->len)] ^= (uint8_t)(1u << rng_below(&m->rng, 8));
}

static void mut_random_byte(Mutator *m)
{
	if (m->len > 0)
		m->buf[rng_below(&m->rng, m->len)] = (uint8_t)rng_next(&m->rng);
}

static void mut_text_char(Mutator *m)
{
	uint8_t c = (uint8_t)text_chars[rng_below(&m->rng, sizeof text_chars - 1)];
	size_t pos = rng_below(&m->rng, m->len + 1);

	if (rng_below(&m->rng, 2) == 0 && pos < m->len)
		m->buf[pos] = c;
	else
		insert_at(m, pos, &c, 1);
}

static void mut_interesting_int(Mutator *m)
{
	static const size_t widths[] = {1, 2, 4, 8};
	size_t w = widths[rng_below(&m->rng, 4)];
	uint64_t v = (uint64_t)interesting[rng_below(&m->rng, sizeof interesting / sizeof interesting[0])];
	int big_endian = (int)rng_below(&m->rng, 2);
	uint8_t bytes[8];

	if (m->len < w)
		return;
	for (size_t i = 0; i < w; i++)
		bytes[big_endian ? w - 1 - i : i] = (uint8_t)(v >> (8 * i));
	overwrite_at(m, rng_below(&m->rng, m->len - w + 1), bytes, w);
}

static void mut_arith(Mutator *m)
{
	size_t pos;
	uint8_t delta = (uint8_t)(1 + rng_below(&m->rng, 35));

	if (m->len == 0)
		return;
	pos = rng_below(&m->rng, m->len);
	m->buf[pos] = rng_below(&m->rng, 2) ? (uint8_t)(m->buf[pos] + delta) : (uint8_t)(m->buf[pos] - delta);
}

static void mut_delete(Mutator *m)
{
	size_t n, pos;

	if (m->len == 0)
		return;
	n = rng_block_len(&m->rng, m->len);
	pos = rng_below(&m->rng, m->len - n + 1);
	erase_at(m, pos, n);
}

static void mut_insert_random(Mutator *m)
{
	uint8_t bytes[128];
	size_t n = rng_block_len(&m->rng, sizeof bytes);
	int same = rng_below(&m->rng, 2) == 0;
	uint8_t b = (uint8_t)rng_next(&m->rng);

	for (size_t i = 0; i < n; i++)
		bytes[i] = same ? b : (uint8_t)rng_next(&m->rng);
	insert_at(m, rng_below(&m->rng, m->len + 1), bytes, n);
}

/* Copies a block of the input to another place, inserted or overwriting. */
static void mut_copy_block(Mutator *m)
{
	uint8_t tmp[4096];
	size_t n, from;

	if (m->len == 0)
		return;
	n = rng_block_len(&m->rng, m->len < sizeof tmp ? m->len : sizeof tmp);
	from = rng_below(&m->rng, m->len - n + 1);
	memcpy(tmp, m->buf + from, n);
	if (rng_below(&m->rng, 2) == 0)
		insert_at(m, rng_below(&m->rng, m->len + 1), tmp, n);
	else
		overwrite_at(m, rng_below(&m->rng, m->len - n + 1), tmp, n);
}

static void mut_dict(Mutator *m)
{
	const Unit *t;
	size_t pos;

	if (m->dict->n == 0) {
		mut_text_char(m);
		return;
	}
	t = &m->dict->units[rng_below(&m->rng, m->dict->n)];
	pos = rng_below(&m->rng, m->len + 1);
	if (rng_below(&m->rng, 3) == 0 && pos + t->len <= m->len)
		overwrite_at(m, pos, t->data, t->len);
	else
		insert_at(m, pos, t->data, t->len);
}

/* An interesting number as text, replacing a run of digits when the
 * input has one near a random place, else inserted there. */
static void mut_number_text(Mutator *m)
{
	const char *t = interesting_text[rng_below(&m->rng, sizeof interesting_text / sizeof interesting_text[0])];
	size_t pos = rng_below(&m->rng, m->len + 1);
	size_t start = pos, end;

	while (start < m->len && !(m->buf[start] >= '0' && m->buf[start] <= '9') && start < pos + 64)
		start++;
	if (start < m->len && m->buf[start] >= '0' && m->buf[start] <= '9') {
		if (start > 0 && m->buf[start - 1] == '-')
			start--;
		for (end = start + 1; end < m->len && m->buf[end] >= '0' && m->buf[end] <= '9'; end++)
			;
		erase_at(m, start, end - start);
		pos = start;
	}
	insert_at(m, pos, (const uint8_t *)t, strlen(t));
}

static void mut_truncate(Mutator *m)
{
	if (m->len > 0)
		m->len = rng_below(&m->rng, m->len);
}

/* Crossover: the start of this input and the end of another one. */
static void mut_splice(Mutator *m)
{
	const Unit *other;
	size_t cut, from, n;

	if (m->pool->n == 0)
		return;
	other = &m->pool->units[rng_below(&m->rng, m->pool->n)];
	cut = rng_below(&m->rng, m->len + 1);
	from = rng_below(&m->rng, other->len + 1);
	n = other->len - from;
	if (cut + n > m->cap)
		n = m->cap - cut;
	memcpy(m->buf + cut, other->data + from, n);
	m->len = cut + n;
}

/* A block (of the input, or a dictionary token) repeated: sometimes a
 * few times, sometimes until the input is as long as allowed, which is
 * how `[[[[...` deep enough to exhaust a stack comes about. */
static void mut_repeat(Mutator *m)
{
	uint8_t block[64];
	size_t n, times, pos;

	if (m->dict->n > 0 && (m->len == 0 || rng_below(&m->rng, 2) == 0)) {
		const Unit *t = &m->dict->units[rng_below(&m->rng, m->dict->n)];
		n = t->len < sizeof block ? t->len : sizeof block;
		memcpy(block, t->data, n);
	} else if (m->len > 0) {
		size_t from;
		n = rng_block_len(&m->rng, m->len < sizeof block ? m->len : sizeof block);
		from = rng_below(&m->rng, m->len - n + 1);
		memcpy(block, m->buf + from, n);
	} else {
		block[0] = (uint8_t)text_chars[rng_below(&m->rng, sizeof text_chars - 1)];
		n = 1;
	}
	if (rng_below(&m->rng, 16) == 0)
		times = (m->cap - m->len) / n;
	else
		times = 2 + rng_below(&m->rng, 63);
	if (times > (m->cap - m->len) / n)
		times = (m->cap - m->len) / n;
	if (times == 0)
		return;
	/* one move of the tail, then the copies */
	pos = rng_below(&m->rng, m->len + 1);
	memmove(m->buf + pos + n * times, m->buf + pos, m->len - pos);
	for (size_t i = 0; i < times; i++)
		memcpy(m->buf + pos + i * n, block, n);
	m->len += n * times;
}

/* Wraps a region of the input in N pairs of brackets, "[[[" + region +
 * "]]]" or "{"a":" ... "}": nesting that stays balanced, which two
 * independent insertions would almost never achieve. */
static void mut_nest(Mutator *m)
{
	static const char *const pairs[][2] = {{"[", "]"}, {"{\"a\":", "}"}, {"[0,", "]"}, {"(", ")"}};
	const char *const *pair = pairs[rng_below(&m->rng, sizeof pairs / sizeof pairs[0])];
	size_t open = strlen(pair[0]), close = strlen(pair[1]);
	size_t times = rng_below(&m->rng, 8) == 0 ? 64 + rng_below(&m->rng, 4096) : 1 + rng_below(&m->rng, 200);
	size_t start = rng_below(&m->rng, m->len + 1);
	size_t end = start + rng_below(&m->rng, m->len - start + 1);

	if (times > (m->cap - m->len) / (open + close))
		times = (m->cap - m->len) / (open + close);
	if (times == 0)
		return;
	memmove(m->buf + end + times * (open + close), m->buf + end, m->len - end);
	for (size_t i = 0; i < times; i++)
		memcpy(m->buf + end + times * open + i * close, pair[1], close);
	memmove(m->buf + start + times * open, m->buf + start, end - start);
	for (size_t i = 0; i < times; i++)
		memcpy(m->buf + start + i * open, pair[0], open);
	m->len += times * (open + close);
}

typedef void (*MutateFunc)(Mutator *m);

static const MutateFunc mutations[] = {
    mut_flip_bit, mut_random_byte, mut_text_char, mut_interesting_int, mut_arith,      mut_delete,
    mut_insert_random, mut_copy_block, mut_dict, mut_dict, mut_dict, mut_number_text, mut_truncate, mut_splice,
    mut_repeat, mut_nest,
};

/* A stack of 1, 2, 4 or 8 mutations, as AFL's havoc stage does. */
static void mutate(Mutator *m)
{
	size_t n = (size_t)1 << rng_below(&m->rng, 4);

	for (size_t i = 0; i < n; i++) {
		MutateFunc f = mutations[rng_below(&m->rng, sizeof mutations / sizeof mutations[0])];
		/* truncation is strong; do it rarely */
		if (f == mut_truncate && rng_below(&m->rng, 4) != 0)
			f = mut_flip_bit;
		f(m);
	}
}

/* ---- leaks ------------------------------------------------------------------------ */

/* Runs `exe --replay files...` in a child; 1 when it reports a failure
 * (LeakSanitizer exits non-zero at exit), 0 when clean, -1 on error. */
static int replay_in_child(char **files, size_t n, int quiet)
{
	char **args = calloc(n + 4, sizeof *args);
	pid_t pid;
	int status;

	if (args == NULL)
		return -1;
	args[0] = (char *)argv0;
	args[1] = (char *)"--replay";
	memcpy(args + 2, files, n * sizeof *files);
	pid = fork();
	if (pid == 0) {
		if (quiet) {
			int null = open("/dev/null", O_WRONLY);
			dup2(null, 1);
			dup2(null, 2);
		} else {
			/* the report shown: whole stacks, also through GLib, which
			 * has no frame pointers for the fast unwinder (too slow to
			 * use while fuzzing) */
			const char *old = getenv("ASAN_OPTIONS");
			char opts[1024];
			snprintf(opts, sizeof opts, "%s%sfast_unwind_on_malloc=0:malloc_context_size=40",
				 old != NULL ? old : "", old != NULL && *old != '\0' ? ":" : "");
			setenv("ASAN_OPTIONS", opts, 1);
		}
		execv("/proc/self/exe", args);
		_exit(127);
	}
	free(args);
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* Narrows files[lo, hi) down to one file whose replay alone fails. */
static ssize_t bisect(char **files, size_t lo, size_t hi)
{
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (replay_in_child(files + lo, mid - lo, 1) == 1)
			hi = mid;
		else if (replay_in_child(files + mid, hi - mid, 1) == 1)
			lo = mid;
		else
			return -1; /* only the two halves together leak */
	}
	return replay_in_child(files + lo, 1, 1) == 1 ? (ssize_t)lo : -1;
}

/* A leak check just failed: the leak is in one of `recent`. Finds it,
 * reports it like a crash, and exits. */
__attribute__((noreturn)) static void report_leak(const UnitList *recent, const char *what)
{
	char dir[PATH_MAX];
	char **files = calloc(recent->n + 1, sizeof *files);
	ssize_t culprit = -1;

	put(2, "\n==fuzz== LeakSanitizer found a leak (report above); looking for the input that causes it\n");
	snprintf(dir, sizeof dir, "%s/.leak-" FUZZ_NAME "-XXXXXX", artifact_dir);
	if (files != NULL && mkdtemp(dir) != NULL) {
		for (size_t i = 0; i < recent->n; i++) {
			Unit u = recent->units[i];
			files[i] = malloc(PATH_MAX);
			if (snprintf(files[i], PATH_MAX, "%s/%06zu", dir, i) >= PATH_MAX)
				continue;
			FILE *f = fopen(files[i], "we");
			if (f != NULL) {
				fwrite(u.data, 1, u.len, f);
				fclose(f);
			}
		}
		culprit = recent->n > 0 ? bisect(files, 0, recent->n) : -1;
		if (culprit >= 0) {
			put(2, "==fuzz== this input leaks on its own:\n");
			(void)replay_in_child(files + culprit, 1, 0);
		}
		for (size_t i = 0; i < recent->n; i++) {
			unlink(files[i]);
			free(files[i]);
		}
		rmdir(dir);
	}
	free(files);
	reported = 1;
	if (culprit >= 0) {
		report_input("leak", recent->units[culprit].data, recent->units[culprit].len, what);
	} else {
		put(2, "==fuzz== no single input leaks on its own (leak in the set-up, or only a sequence leaks)\n");
		if (tap_mode)
			printf("not ok %d - leak in %s, not reproducible with one input\n", tap_test, what);
	}
	fflush(stdout);
	_exit(1);
}

/* ---- the run --------------------------------------------------------------------- */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void save_new_input(const char *dir, const uint8_t *data, size_t len)
{
	char path[PATH_MAX];
	char num[24];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, fmt_u64(num, fnv1a(data, len), 16, 16));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, data, len) != (ssize_t)len)
		fprintf(stderr, "fuzz: short write to %s\n", path);
	close(fd);
}

typedef struct {
	UnitList pool;
	UnitList recent; /* inputs since the last clean leak check */
	double last_leak_check;
	int leak_checks;
} Run;

static int leak_check_enabled(void)
{
	return __lsan_do_recoverable_leak_check != NULL;
}

/* Runs a leak check when one is due (or `force`); reports and exits on a leak. */
static void maybe_check_leaks(Run *run, const char *what, int force)
{
	double t;

	if (!leak_check_enabled())
		return;
	t = now_seconds();
	if (!force && t - run->last_leak_check < LEAK_CHECK_SECONDS && run->recent.n < LEAK_RING_MAX_UNITS &&
	    run->recent.bytes < LEAK_RING_MAX_BYTES)
		return;
	run->last_leak_check = t;
	run->leak_checks++;
	if (__lsan_do_recoverable_leak_check() != 0)
		report_leak(&run->recent, what);
	list_clear(&run->recent);
}

/* Keeps an input for the pool when it reached new coverage. */
static void consider(Run *run, const Options *o, const uint8_t *data, size_t len, int always)
{
	size_t fresh = cov_used ? cov_collect() : 0;

	if (!always && (fresh == 0 || len > POOL_MAX_UNIT_LEN))
		return;
	if (run->pool.n >= POOL_MAX_UNITS || run->pool.bytes + len > POOL_MAX_BYTES)
		return;
	list_add_copy(&run->pool, data, len);
	if (!always && o->save_dir != NULL)
		save_new_input(o->save_dir, data, len);
}

static size_t run_corpus(Run *run, const Options *o)
{
	char **paths = NULL;
	size_t n_paths = 0, ran = 0;

	for (size_t i = 0; i < o->n_corpus; i++)
		collect_paths(o->corpus[i], &paths, &n_paths);
	for (size_t i = 0; i < n_paths; i++) {
		Unit u;
		char what[96];
		const char *base = strrchr(paths[i], '/');
		if (read_file(paths[i], &u) < 0) {
			fprintf(stderr, "fuzz: cannot read seed %s, skipped\n", paths[i]);
			free(paths[i]);
			continue;
		}
		snprintf(what, sizeof what, "seed %s", base != NULL ? base + 1 : paths[i]);
		run_input(u.data, u.len, what);
		consider(run, o, u.data, u.len, 1);
		if (leak_check_enabled())
			list_add_copy(&run->recent, u.data, u.len);
		maybe_check_leaks(run, what, 0);
		free(u.data);
		free(paths[i]);
		ran++;
	}
	free(paths);
	maybe_check_leaks(run, "the seed corpus", 1);
	return ran;
}

static long run_mutations(Run *run, const Options *o, double deadline, double *out_elapsed)
{
	Mutator m = {.rng = {o->seed}, .len = 0, .cap = o->max_len, .pool = &run->pool};
	UnitList dict = {0};
	double start = now_seconds();
	double next_status = start + 10;
	long it;
	char what[96];

	m.buf = malloc(o->max_len > 0 ? o->max_len : 1);
	load_dict(o->dict_path, &dict);
	m.dict = &dict;
	if (run->pool.n == 0)
		list_add_copy(&run->pool, (const uint8_t *)"", 0);
	for (it = 0; o->iterations < 0 || it < o->iterations; it++) {
		double t = now_seconds();
		const Unit *base;

		if (deadline > 0 && t >= deadline)
			break;
		if (!o->quiet && t >= next_status) {
			fprintf(stderr, "fuzz: %s: %ld iterations, %.0f/s, pool %zu, edges %zu\n", FUZZ_NAME, it,
				(double)it / (t - start), run->pool.n, cov_edges());
			next_status = t + 10;
		}
		base = &run->pool.units[rng_below(&m.rng, run->pool.n)];
		m.len = base->len < m.cap ? base->len : m.cap;
		memcpy(m.buf, base->data, m.len);
		mutate(&m);
		snprintf(what, sizeof what, "iteration %ld", it);
		run_input(m.buf, m.len, what);
		consider(run, o, m.buf, m.len, 0);
		if (leak_check_enabled())
			list_add_copy(&run->recent, m.buf, m.len);
		maybe_check_leaks(run, what, 0);
	}
	maybe_check_leaks(run, "the last iterations", 1);
	*out_elapsed = now_seconds() - start;
	list_clear(&dict);
	free(dict.units);
	free(m.buf);
	return it;
}

static int replay(const Options *o)
{
	char **paths = NULL;
	size_t n = 0;

	for (size_t i = 0; i < o->n_replay; i++)
		collect_paths(o->replay[i], &paths, &n);
	for (size_t i = 0; i < n; i++) {
		Unit u;
		char what[96];
		if (read_file(paths[i], &u) < 0) {
			fprintf(stderr, "fuzz: cannot read %s\n", paths[i]);
			return 2;
		}
		snprintf(what, sizeof what, "replay of %s", paths[i]);
		run_input(u.data, u.len, what);
		free(u.data);
		free(paths[i]);
	}
	free(paths);
	if (!o->quiet)
		fprintf(stderr, "fuzz: %s: replayed %zu input(s), no crash\n", FUZZ_NAME, n);
	return 0;
}

/* ---- options ---------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [OPTION]... [CORPUS_DIR_OR_FILE]...\n"
		"Runs the seed corpus, then mutated inputs, through the fuzz target '" FUZZ_NAME "'.\n"
		"\n"
		"  --seed N          PRNG seed of the mutations (default 1; $FUZZ_SEED)\n"
		"  --iterations N    mutated inputs to run, -1 for no limit (default %d; $FUZZ_ITERATIONS)\n"
		"  --seconds S       wall-clock budget of the mutations, 0 for none (default %.0f; $FUZZ_SECONDS,\n"
		"                    which also lifts the iteration limit unless $FUZZ_ITERATIONS is set)\n"
		"  --short           the short run of `meson test`: %d iterations within %.0f s, unless\n"
		"                    $FUZZ_SECONDS or $FUZZ_ITERATIONS say otherwise\n"
		"  --max-len N       longest mutated input in bytes (default %d; $FUZZ_MAX_LEN)\n"
		"  --timeout S       an input running longer is a failure, 0 for none (default %d)\n"
		"  --dict FILE       dictionary of tokens (default: the target's)\n"
		"  --artifact-dir D  where failing inputs are written (default .; $FUZZ_ARTIFACT_DIR)\n"
		"  --save-new D      also write every input that reached new coverage into D\n"
		"  --replay FILE...  run these inputs (files or directories) once and exit\n"
		"  --tap             print TAP for meson test\n"
		"  --quiet           no progress lines\n"
		"Without corpus arguments the seeds are read from %s.\n",
		argv0, DEFAULT_ITERATIONS, DEFAULT_SECONDS, SHORT_ITERATIONS, SHORT_SECONDS, DEFAULT_MAX_LEN,
		DEFAULT_TIMEOUT, FUZZ_CORPUS_DIR);
}

static int parse_number(const char *s, double *out)
{
	char *end = NULL;

	errno = 0;
	*out = strtod(s != NULL ? s : "", &end);
	return s != NULL && *s != '\0' && *end == '\0' && errno == 0 ? 0 : -1;
}

static void need_number(const char *what, const char *s, double *out)
{
	if (parse_number(s, out) < 0) {
		fprintf(stderr, "%s: %s: '%s' is not a number\n", argv0, what, s != NULL ? s : "");
		exit(2);
	}
}

/* Precedence: built-in defaults, then --short, then the environment, then
 * the other command-line options. */
static void parse_options(int argc, char **argv, Options *o)
{
	enum { OPT_SEED = 256, OPT_ITER, OPT_SECS, OPT_SHORT, OPT_MAXLEN, OPT_TIMEOUT, OPT_DICT, OPT_ART,
	       OPT_SAVE, OPT_REPLAY, OPT_TAP, OPT_QUIET, OPT_HELP };
	static const struct option longopts[] = {
	    {"seed", required_argument, NULL, OPT_SEED},	{"iterations", required_argument, NULL, OPT_ITER},
	    {"seconds", required_argument, NULL, OPT_SECS},	{"short", no_argument, NULL, OPT_SHORT},
	    {"max-len", required_argument, NULL, OPT_MAXLEN},	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"dict", required_argument, NULL, OPT_DICT},	{"artifact-dir", required_argument, NULL, OPT_ART},
	    {"save-new", required_argument, NULL, OPT_SAVE},	{"replay", no_argument, NULL, OPT_REPLAY},
	    {"tap", no_argument, NULL, OPT_TAP},		{"quiet", no_argument, NULL, OPT_QUIET},
	    {"help", no_argument, NULL, OPT_HELP},		{NULL, 0, NULL, 0},
	};
	double v;
	int c, is_short = 0, is_replay = 0;
	/* explicit options, applied last; NaN: not given */
	double seed = NAN, iterations = NAN, seconds = NAN, max_len = NAN, timeout = NAN;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SEED: need_number("--seed", optarg, &seed); break;
		case OPT_ITER: need_number("--iterations", optarg, &iterations); break;
		case OPT_SECS: need_number("--seconds", optarg, &seconds); break;
		case OPT_SHORT: is_short = 1; break;
		case OPT_MAXLEN: need_number("--max-len", optarg, &max_len); break;
		case OPT_TIMEOUT: need_number("--timeout", optarg, &timeout); break;
		case OPT_DICT: o->dict_path = optarg; break;
		case OPT_ART: o->artifact_dir = optarg; break;
		case OPT_SAVE: o->save_dir = optarg; break;
		case OPT_REPLAY: is_replay = 1; break;
		case OPT_TAP: o->tap = 1; break;
		case OPT_QUIET: o->quiet = 1; break;
		case OPT_HELP: usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}

	o->seed = 1;
	o->iterations = DEFAULT_ITERATIONS;
	o->seconds = DEFAULT_SECONDS;
	o->max_len = DEFAULT_MAX_LEN;
	o->timeout = DEFAULT_TIMEOUT;
	if (is_short) {
		o->iterations = SHORT_ITERATIONS;
		o->seconds = SHORT_SECONDS;
	}
	if (getenv("FUZZ_SECONDS") != NULL) {
		need_number("$FUZZ_SECONDS", getenv("FUZZ_SECONDS"), &o->seconds);
		o->iterations = -1;
	}
	if (getenv("FUZZ_ITERATIONS") != NULL && parse_number(getenv("FUZZ_ITERATIONS"), &v) == 0)
		o->iterations = (long)v;
	if (getenv("FUZZ_SEED") != NULL && parse_number(getenv("FUZZ_SEED"), &v) == 0)
		o->seed = (uint64_t)v;
	if (getenv("FUZZ_MAX_LEN") != NULL && parse_number(getenv("FUZZ_MAX_LEN"), &v) == 0)
		o->max_len = (size_t)v;
	if (o->artifact_dir == NULL)
		o->artifact_dir = getenv("FUZZ_ARTIFACT_DIR");
	if (o->artifact_dir == NULL)
		o->artifact_dir = ".";
	if (o->dict_path == NULL)
		o->dict_path = FUZZ_DICT;
	if (!isnan(seed))
		o->seed = (uint64_t)seed;
	if (!isnan(iterations))
		o->iterations = (long)iterations;
	if (!isnan(seconds))
		o->seconds = seconds;
	if (!isnan(max_len))
		o->max_len = (size_t)max_len;
	if (!isnan(timeout))
		o->timeout = (unsigned)timeout;

	/* the remaining arguments: corpus, or the inputs to replay */
	for (int i = optind; i < argc; i++) {
		const char ***list = is_replay ? &o->replay : &o->corpus;
		size_t *n = is_replay ? &o->n_replay : &o->n_corpus;
		*list = realloc(*list, (*n + 1) * sizeof **list);
		(*list)[(*n)++] = argv[i];
	}
	if (is_replay && o->n_replay == 0) {
		fprintf(stderr, "%s: --replay needs at least one file\n", argv0);
		exit(2);
	}
	if (!is_replay && o->n_corpus == 0) {
		o->corpus = malloc(sizeof *o->corpus);
		o->corpus[o->n_corpus++] = FUZZ_CORPUS_DIR;
	}
}

int main(int argc, char **argv)
{
	Options o = {0};
	Run run = {0};
	size_t seeds;
	long iterations;
	double elapsed = 0, deadline;

	argv0 = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_options(argc, argv, &o);
	run_seed = o.seed;
	artifact_dir = o.artifact_dir;
	input_timeout = o.timeout;
	tap_mode = o.tap;
	install_handlers();
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);

	if (o.n_replay > 0) {
		int rc;
		replay_mode = 1;
		rc = replay(&o);
		free(o.replay);
		return rc;
	}

	if (tap_mode)
		printf("TAP version 13\n1..2\n");
	/* Anything leaked before the first input would be blamed on it. */
	if (leak_check_enabled() && __lsan_do_recoverable_leak_check() != 0) {
		fprintf(stderr, "fuzz: leaks before the first input (in the target's set-up); fix those first\n");
		if (tap_mode)
			printf("not ok 1 - leak in the set-up\n");
		return 1;
	}

	run.last_leak_check = now_seconds();
	seeds = run_corpus(&run, &o);
	if (tap_mode)
		printf("ok 1 - corpus: %zu seed(s) from %s\n", seeds, o.corpus[0]);

	tap_test = 2;
	deadline = o.seconds > 0 ? now_seconds() + o.seconds : 0;
	iterations = run_mutations(&run, &o, deadline, &elapsed);
	printf("%s%s: %ld iterations in %.1f s (%.0f/s), seed %llu, pool %zu, edges %zu, leak checks %d\n",
	       tap_mode ? "ok 2 - mutations " : "", FUZZ_NAME, iterations, elapsed,
	       elapsed > 0 ? (double)iterations / elapsed : 0.0, (unsigned long long)o.seed, run.pool.n,
	       cov_edges(), run.leak_checks);
	if (!cov_used && tap_mode)
		printf("# the code under test has no coverage instrumentation: mutations start from the seeds only\n");
	list_clear(&run.pool);
	free(run.pool.units);
	list_clear(&run.recent);
	free(run.recent.units);
	free(o.corpus);
	free(o.replay);
	return 0;
}
