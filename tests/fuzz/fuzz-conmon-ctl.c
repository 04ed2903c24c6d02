/* fuzz-conmon-ctl: conmon-kata's ctl FIFO (conmon-kata/ctl.c), written
 * to for real, as CRI-O and Podman write resizes and log reopens into it.
 *
 * Input: one flag byte (bit 0: arm winsz at once, as when the console
 * exists already; else only at the end), then writes: a length byte
 * (bits 0-6: 0 to 127 bytes; bit 7: write the next one before the monitor
 * gets to read) and that many bytes for the ctl FIFO. The main context
 * runs between writes, so reads see the pieces the input asks for. Only
 * the first CTL_FUZZ_MAX_INPUT bytes are used: CRI-O writes a line at a time, and
 * longer programs only make runs slower.
 *
 * The reference is conmon-interface.md#ctl-and-winsz-fifos, applied to the whole stream
 * here rather than to the reads: a complete line of at most 198 bytes
 * whose sscanf("%d %d %d") gives type 1 or 2 and sizes 0..1000 is valid.
 * One of conmon's rules makes reads matter: "after a rejected line, the
 * rest of that read is dropped", so the next read may begin inside a line
 * and that line's tail is then read as a line of its own. Checked:
 *   - ctl_parse_line() and ctl_parse_winsz_line() agree with that rule on
 *     every line (the winsz rule allows sizes up to 65535);
 *   - the resizes that reach on_resize, through the winsz FIFO, come in
 *     order from distinct lines, each asked for by the line or by a tail
 *     of it of at most 198 bytes; there are no more reopens than lines
 *     that can ask for one. Nothing is made up, and no line whose valid
 *     start lies more than 198 bytes before its end takes effect (conmon-interface.md#ctl-and-winsz-fifos:
 *     "a 65535-character line starting with `1 2 2 ` must not resize");
 *   - when no line was rejected, none was too long and winsz was armed
 *     from the start, exactly the valid lines took effect.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conmon-kata/ctl.h"
#include "fuzz.h"

/* conmon-interface.md#ctl-and-winsz-fifos: 200-byte buffer, so a line of 198 bytes and its "\n". */
#define LINE_MAX_LEN (CTL_LINE_BUF - 2)
#define CTL_FUZZ_MAX_INPUT 8192

typedef struct {
	GArray *resizes; /* int pairs: rows, cols */
	int reopens;
} Seen;

static void on_resize(int rows, int cols, gpointer data)
{
	Seen *s = data;
	int pair[2] = {rows, cols};

	g_array_append_vals(s->resizes, pair, 2);
}

static void on_reopen(gpointer data)
{
	((Seen *)data)->reopens++;
}

static void pump(void)
{
	for (int i = 0; i < 100000 && g_main_context_iteration(NULL, FALSE); i++)
		;
}

static void write_fifo(int fd, const guint8 *data, gsize len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EAGAIN) {
			pump();
			continue;
		}
		if (n < 0)
			fuzz_fail("write to ctl: %s", g_strerror(errno));
		data += n;
		len -= (gsize)n;
	}
}

/* The conmon-interface.md#ctl-and-winsz-fifos rule for one ctl line (a C string: a NUL ends it, as in conmon). */
static gboolean valid_ctl(const char *line, int *type, int *h, int *w)
{
	return sscanf(line, "%d %d %d", type, h, w) == 3 && (*type == 1 || *type == 2) && *h >= 0 && *h <= 1000 &&
	       *w >= 0 && *w <= 1000;
}

static void check_parsers(const char *line)
{
	int type = -7, h = -7, w = -7;
	int mt, mh, mw;
	gboolean ok = ctl_parse_line(line, &type, &h, &w);

	fuzz_check(ok == valid_ctl(line, &mt, &mh, &mw), "ctl_parse_line('%s') says %d", line, ok);
	if (ok)
		fuzz_check(type == mt && h == mh && w == mw, "ctl_parse_line('%s') gives other numbers", line);
	else
		fuzz_check(type == -7 && h == -7 && w == -7, "ctl_parse_line('%s') wrote its outputs on failure", line);

	ok = ctl_parse_winsz_line(line, &h, &w);
	gboolean model = sscanf(line, "%d %d", &mh, &mw) == 2 && mh >= 0 && mh <= 65535 && mw >= 0 && mw <= 65535;
	fuzz_check(ok == model, "ctl_parse_winsz_line('%s') says %d", line, ok);
}

/* What one complete line may cause: read whole, or read from any later
 * byte on when a drop left a read starting inside it. */
typedef struct {
	GArray *resizes; /* int pairs the line or one of its short tails asks for */
	gboolean reopen; /* ... and whether one of them asks for a reopen */
} LineEffects;

static void line_effects_clear(LineEffects *e)
{
	g_array_unref(e->resizes);
}

/* Expected events of the whole stream: `valid` (pairs) from the lines as
 * written, `lines` what each line could cause; *clean: no line rejected. */
static void expect(const GByteArray *stream, GArray *valid, int *reopens, GArray *lines, gboolean *clean)
{
	gsize start = 0;

	*clean = TRUE;
	*reopens = 0;
	for (gsize i = 0; i < stream->len; i++) {
		if (stream->data[i] != '\n')
			continue;
		gsize len = i - start;
		/* the raw bytes, NULs included: a read may start after a NUL */
		g_autofree char *line = g_malloc(len + 1);
		LineEffects e = {.resizes = g_array_new(FALSE, FALSE, sizeof(int))};
		int type, h, w;
		memcpy(line, stream->data + start, len);
		line[len] = '\0';
		check_parsers(line);
		/* each tail is parsed as the C string conmon sees: up to a NUL */
		for (gsize k = len > LINE_MAX_LEN ? len - LINE_MAX_LEN : 0; k < len; k++) {
			if (valid_ctl(line + k, &type, &h, &w)) {
				int pair[2] = {h, w};
				if (type == CTL_TYPE_RESIZE)
					g_array_append_vals(e.resizes, pair, 2);
				else
					e.reopen = TRUE;
			}
		}
		g_array_append_val(lines, e);
		start = i + 1;
		if (len > LINE_MAX_LEN || !valid_ctl(line, &type, &h, &w)) {
			*clean = FALSE;
			continue;
		}
		if (type == CTL_TYPE_RESIZE) {
			int pair[2] = {h, w};
			g_array_append_vals(valid, pair, 2);
		} else {
			(*reopens)++;
		}
	}
}

static gboolean has_pair(const GArray *pairs, int h, int w)
{
	for (guint i = 0; i < pairs->len; i += 2)
		if (g_array_index(pairs, int, i) == h && g_array_index(pairs, int, i + 1) == w)
			return TRUE;
	return FALSE;
}

/* Can the seen resizes (pairs) come, in order, from distinct lines? */
static gboolean explained(const GArray *seen, const GArray *lines)
{
	guint j = 0;

	for (guint i = 0; i < seen->len; i += 2, j++) {
		int h = g_array_index(seen, int, i), w = g_array_index(seen, int, i + 1);
		while (j < lines->len && !has_pair(g_array_index(lines, LineEffects, j).resizes, h, w))
			j++;
		if (j >= lines->len)
			return FALSE;
	}
	return TRUE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) expected = g_array_new(FALSE, FALSE, sizeof(int));
	g_autoptr(GByteArray) stream = g_byte_array_new();
	Seen seen = {.resizes = g_array_new(FALSE, FALSE, sizeof(int))};
	CtlCallbacks cb = {.on_resize = on_resize, .on_reopen = on_reopen, .user_data = &seen};
	FuzzInput in;
	int reopens;
	gboolean clean;

	fuzz_init();
	dir = fuzz_tmpdir();
	fuzz_input_init(&in, data, MIN(size, CTL_FUZZ_MAX_INPUT));
	gboolean arm_early = fuzz_take_u8(&in) & 1;

	CtlFifos *c = ctl_fifos_new(dir, &cb, &error);
	fuzz_check(c != NULL, "ctl_fifos_new: %s", error ? error->message : "?");
	g_autofree char *path = g_build_filename(dir, "ctl", NULL);
	int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	fuzz_check(fd >= 0, "open ctl: %s", g_strerror(errno));
	if (arm_early)
		ctl_fifos_arm_winsz(c);

	while (in.left > 0) {
		guint8 op = fuzz_take_u8(&in);
		gsize len;
		const guint8 *bytes = fuzz_take_bytes(&in, op & 0x7f, &len);
		write_fifo(fd, bytes, len);
		g_byte_array_append(stream, bytes, (guint)len);
		if (!(op & 0x80))
			pump();
	}
	pump();
	ctl_fifos_arm_winsz(c);
	pump();

	g_autoptr(GArray) lines = g_array_new(FALSE, FALSE, sizeof(LineEffects));
	g_array_set_clear_func(lines, (GDestroyNotify)line_effects_clear);
	expect(stream, expected, &reopens, lines, &clean);
	int possible_reopens = 0;
	for (guint i = 0; i < lines->len; i++)
		possible_reopens += g_array_index(lines, LineEffects, i).reopen;
	if (!explained(seen.resizes, lines)) {
		g_autoptr(GString) got = g_string_new(NULL);
		for (guint i = 0; i < seen.resizes->len; i += 2)
			g_string_append_printf(got, " %dx%d", g_array_index(seen.resizes, int, i),
					       g_array_index(seen.resizes, int, i + 1));
		fuzz_fail("a resize that no ctl line asked for; resizes seen:%s", got->str);
	}
	fuzz_check(seen.reopens <= possible_reopens, "%d reopens for %d lines that can ask for one", seen.reopens,
		   possible_reopens);
	/* Unarmed, at most a FIFO's worth (64 KiB) of forwarded resizes waits. */
	if (clean && arm_early) {
		fuzz_check(seen.resizes->len == expected->len, "valid resize lines were lost: %u of %u applied",
			   seen.resizes->len / 2, expected->len / 2);
		fuzz_check(seen.reopens == reopens, "valid reopen lines were lost");
	}

	close(fd);
	ctl_fifos_free(c);
	g_array_unref(seen.resizes);
	return 0;
}
