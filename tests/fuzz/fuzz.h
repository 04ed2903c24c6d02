/* fuzz: what the fuzz targets in tests/fuzz share.
 *
 * Every target is one file, fuzz-<name>.c, exposing the standard entry
 * point LLVMFuzzerTestOneInput(). It is linked either with driver.c (our
 * own driver: seed corpus, deterministic mutations, crash reports; the
 * default) or with clang's libFuzzer (meson -Dfuzzing=libfuzzer). Neither
 * side knows which: a target only parses, checks its properties, and
 * calls fuzz_fail() (an abort) when a property does not hold, which both
 * drivers report as a crash with the input that caused it.
 *
 * The helpers here are for the targets only. They are not async-signal
 * safe and keep process-wide state (a temporary directory, the GLib log
 * writer), set up once by fuzz_init().
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "lib/config.h"

G_BEGIN_DECLS

/* The libFuzzer interface. Both drivers call LLVMFuzzerInitialize once
 * before the first input; fuzz-common.c defines it for every target (it
 * runs fuzz_init()). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Once per process, from LLVMFuzzerInitialize or the first input:
 *   - GLib criticals, errors and warnings abort (a g_return_if_fail that
 *     input can trigger is a bug); debug and info messages are dropped;
 *   - ck_log is silenced, so that warnings about bad input cost nothing;
 *   - G_SLICE=always-malloc and G_DEBUG=gc-friendly, so that the address
 *     and leak sanitizers see every GLib allocation.
 * Idempotent. */
void fuzz_init(void);

/* ck_config_to_toml() without its "# from <file>:<line>" comments: the
 * configuration's values, to compare two configurations. g_free. */
char *fuzz_config_text(const CkConfig *cfg);
/* The same, of text ck_config_to_toml() wrote: each line cut at its
 * first "  # ". g_free. */
char *fuzz_strip_config_comments(const char *toml);

/* A private directory (under $TMPDIR) created on first use and removed,
 * with its contents, at exit. Owned by the helper. */
const char *fuzz_tmpdir(void);

/* Removes everything inside `dir`, not `dir` itself. */
void fuzz_clear_dir(const char *dir);

/* A property of the code under test does not hold: prints the message to
 * stderr and aborts, so that the driver saves the input. */
G_NORETURN void fuzz_fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#define fuzz_check(cond, ...)                \
	do {                                 \
		if (G_UNLIKELY(!(cond)))     \
			fuzz_fail(__VA_ARGS__); \
	} while (0)

/* A cursor over the input, for targets whose input is a small program
 * (operations with lengths) rather than one document. Reading past the
 * end yields zeros and empty slices, never an error: every byte string
 * is a valid program. */
typedef struct {
	const uint8_t *p;
	size_t left;
} FuzzInput;

void fuzz_input_init(FuzzInput *in, const uint8_t *data, size_t size);
guint8 fuzz_take_u8(FuzzInput *in);
guint16 fuzz_take_u16(FuzzInput *in); /* big-endian */
/* Up to `n` bytes (fewer at the end); *out_len gets how many. */
const uint8_t *fuzz_take_bytes(FuzzInput *in, size_t n, size_t *out_len);
/* Up to the next `sep` (consumed, not returned) or the end. */
const uint8_t *fuzz_take_until(FuzzInput *in, uint8_t sep, size_t *out_len);

G_END_DECLS
