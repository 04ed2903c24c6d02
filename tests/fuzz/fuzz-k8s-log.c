/* fuzz-k8s-log: container output through conmon-kata's log drivers
 * (conmon-kata/logging.c, log-k8s.c, log-journald.c), the path that turns
 * what a container (or a compromised guest) writes into the CRI log file
 * the kubelet parses and into journald records.
 *
 * Input:
 *   byte 0   drivers and options: bit 0 k8s-file, bit 1 journald, bit 2
 *            --log-rotate, bit 3 --no-container-partial-message, bit 4
 *            --log-tag
 *   byte 1   --log-size-max: 0 none, else 64 * n bytes
 *   byte 2   --log-global-size-max: 0 none, else 256 * n bytes
 *   byte 3   --log-max-files: 1 + n % 3
 *   then operations: one byte (0 stdout, 1 stderr, 2 reopen as ctl asks,
 *   3 stdout), a big-endian 16-bit length (at most 8192, one read of the
 *   container's output, conmon-interface.md#k8s-file-format) and the chunk.
 *
 * The journald records are not sent: the fuzz executable is linked with
 * --wrap=sd_journal_sendv and this file keeps them. Checked, beyond
 * crashes, against conmon-interface.md#logging:
 *   - k8s file: every line is "<35-byte timestamp> <stdout|stderr> <F|P>
 *     <content>\n"; without limits or reopens, the F and P contents of
 *     each stream are exactly the bytes the container wrote; with
 *     --log-size-max every file holds at most that many bytes or a single
 *     line; with --log-global-size-max all files hold at most that plus
 *     one line;
 *   - journald: the fields in conmon-interface.md#journald's order; each stream's records spell
 *     out its bytes in order, the "<N>" prefix of a fresh line taken off
 *     and turned into PRIORITY=N; a complete record ends with its only
 *     "\n"; a partial record (CONTAINER_PARTIAL_MESSAGE=true) has none and
 *     is sent early only when the held-back line reached 8192 bytes.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conmon-kata/cli.h"
#include "conmon-kata/logging.h"
#include "fuzz.h"

#define CID "0123456789abcdef0123"
#define NAME "k8s_ctr"
#define TAG "tag"
#define MAX_LINE_COST (LOG_CHUNK_MAX + LOG_K8S_PREFIX_LEN + 1)

/* ---- journald, captured --------------------------------------------------- */

int __wrap_sd_journal_sendv(const struct iovec *iov, int n);

static GPtrArray *records; /* GPtrArray of char* fields (NUL-terminated copies) */
static GArray *record_lens; /* MESSAGE field length, which may hold NULs */

int __wrap_sd_journal_sendv(const struct iovec *iov, int n)
{
	GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);

	for (int i = 0; i < n; i++) {
		char *copy = g_malloc(iov[i].iov_len + 1);
		if (iov[i].iov_len > 0)
			memcpy(copy, iov[i].iov_base, iov[i].iov_len);
		copy[iov[i].iov_len] = '\0';
		g_ptr_array_add(fields, copy);
	}
	g_ptr_array_add(records, fields);
	gsize len = n > 0 ? iov[0].iov_len : 0;
	g_array_append_val(record_lens, len);
	return 0;
}

typedef struct {
	GByteArray *written[2]; /* what the container wrote, per stream */
	gsize consumed[2];	/* how much of it the records have spelt out */
	gboolean continued[2];	/* the stream's last record was partial */
	gboolean mark_partial;
	gboolean tag;
} JournalModel;

static void check_fields(const GPtrArray *f, gboolean partial_field)
{
	const char *const want[] = {"MESSAGE=", "CONTAINER_ID_FULL=" CID, "PRIORITY=", "CONTAINER_ID=" "0123456789ab"};
	guint i = 0;

	for (; i < G_N_ELEMENTS(want); i++)
		fuzz_check(i < f->len && g_str_has_prefix(f->pdata[i], want[i]), "journald field %u is not %s", i,
			   want[i]);
	if (f->len > i && g_str_equal(f->pdata[i], "CONTAINER_TAG=" TAG))
		i++;
	fuzz_check(i < f->len && g_str_equal(f->pdata[i++], "CONTAINER_NAME=" NAME), "no CONTAINER_NAME in order");
	fuzz_check(i < f->len && g_str_has_prefix(f->pdata[i++], "SYSLOG_IDENTIFIER="), "no SYSLOG_IDENTIFIER");
	fuzz_check(partial_field == (i < f->len && g_str_equal(f->pdata[i], "CONTAINER_PARTIAL_MESSAGE=true")),
		   "CONTAINER_PARTIAL_MESSAGE where it does not belong, or missing");
}

/* One record of stream s against the bytes the container wrote. `final`:
 * sent by log_set_finish(), so partial for want of more output. */
static void check_record(JournalModel *jm, guint r, int s, gboolean final)
{
	const GPtrArray *f = records->pdata[r];
	gsize mlen = g_array_index(record_lens, gsize, r) - strlen("MESSAGE=");
	const guint8 *msg = (const guint8 *)f->pdata[0] + strlen("MESSAGE=");
	const GByteArray *w = jm->written[s];
	gsize pos = jm->consumed[s];
	int priority = s == 1 ? 3 : 6;
	gboolean partial = mlen == 0 || msg[mlen - 1] != '\n';

	if (!jm->continued[s] && w->len - pos >= 3 && w->data[pos] == '<' && w->data[pos + 1] >= '0' &&
	    w->data[pos + 1] <= '7' && w->data[pos + 2] == '>') {
		priority = w->data[pos + 1] - '0';
		pos += 3;
	}
	fuzz_check(pos + mlen <= w->len && (mlen == 0 || memcmp(w->data + pos, msg, mlen) == 0),
		   "journald record %u is not the next %zu bytes the container wrote on stream %d", r, mlen, s);
	fuzz_check(((const char *)f->pdata[2])[strlen("PRIORITY=")] == '0' + priority &&
			   ((const char *)f->pdata[2])[strlen("PRIORITY=") + 1] == '\0',
		   "journald record %u: %s, expected %d", r, (const char *)f->pdata[2], priority);
	fuzz_check(memchr(msg, '\n', partial ? mlen : mlen - 1) == NULL, "journald record %u holds a line break",
		   r);
	if (partial && !final)
		fuzz_check(pos + mlen - jm->consumed[s] >= LOG_CHUNK_MAX,
			   "journald record %u is partial with only %zu bytes held", r, pos + mlen - jm->consumed[s]);
	check_fields(f, partial && jm->mark_partial);
	jm->consumed[s] = pos + mlen;
	jm->continued[s] = partial;
}

/* ---- the k8s file ------------------------------------------------------------ */

static gboolean is_timestamp(const char *t)
{
	/* YYYY-MM-DDTHH:MM:SS.NNNNNNNNN+HH:MM */
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddddd+dd:dd";

	for (gsize i = 0; i < LOG_K8S_TIMESTAMP_LEN; i++) {
		if (shape[i] == 'd' && !g_ascii_isdigit(t[i]))
			return FALSE;
		if (shape[i] == '+' && t[i] != '+' && t[i] != '-')
			return FALSE;
		if (shape[i] != 'd' && shape[i] != '+' && t[i] != shape[i])
			return FALSE;
	}
	return TRUE;
}

/* Checks the lines of one file; appends the contents to out[stream]. */
static void read_k8s_file(const char *path, GByteArray **out, gsize *out_size, guint *out_lines)
{
	g_autofree char *text = NULL;
	gsize len = 0;

	*out_size = 0;
	*out_lines = 0;
	if (!g_file_get_contents(path, &text, &len, NULL))
		return;
	*out_size = len;
	fuzz_check(len == 0 || text[len - 1] == '\n', "%s does not end with a line break", path);
	for (gsize start = 0; start < len;) {
		const char *line = text + start;
		const char *nl = memchr(line, '\n', len - start);
		gsize n = (gsize)(nl - line);
		(*out_lines)++;
		fuzz_check(n >= LOG_K8S_PREFIX_LEN && is_timestamp(line), "malformed k8s line in %s", path);
		gboolean err = strncmp(line + LOG_K8S_TIMESTAMP_LEN, " stderr ", 8) == 0;
		fuzz_check(err || strncmp(line + LOG_K8S_TIMESTAMP_LEN, " stdout ", 8) == 0, "bad stream in %s", path);
		char tag = line[LOG_K8S_TIMESTAMP_LEN + 8];
		fuzz_check((tag == 'F' || tag == 'P') && line[LOG_K8S_TIMESTAMP_LEN + 9] == ' ', "bad tag in %s", path);
		/* an F line's content is its text and the line break; a P line's break was added */
		g_byte_array_append(out[err], (const guint8 *)line + LOG_K8S_PREFIX_LEN,
				    (guint)(n - LOG_K8S_PREFIX_LEN + (tag == 'F')));
		start += n + 1;
	}
}

/* ---- the run ---------------------------------------------------------------- */

static MonitorConfig *make_config(guint8 flags, guint8 size_sel, guint8 global_sel, guint8 files, const char *path)
{
	MonitorConfig *cfg = g_new0(MonitorConfig, 1);

	cfg->cid = g_strdup(CID);
	cfg->name = g_strdup(NAME);
	cfg->k8s_log_fd = -1;
	cfg->use_k8s_file = (flags & 1) != 0;
	cfg->use_journald = (flags & 2) != 0;
	cfg->log_rotate = (flags & 4) != 0;
	cfg->no_container_partial_message = (flags & 8) != 0;
	cfg->log_tag = (flags & 16) ? g_strdup(TAG) : NULL;
	cfg->log_size_max = size_sel ? 64 * (gint64)size_sel : -1;
	cfg->log_global_size_max = global_sel ? 256 * (gint64)global_sel : -1;
	cfg->log_max_files = 1 + files % 3;
	if (cfg->use_k8s_file) {
		cfg->k8s_log_path = g_strdup(path);
		cfg->k8s_log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		fuzz_check(cfg->k8s_log_fd >= 0, "cannot create %s", path);
	}
	return cfg;
}

static void check_k8s(const MonitorConfig *cfg, const char *path, JournalModel *jm, gboolean reopened)
{
	GByteArray *got[2] = {g_byte_array_new(), g_byte_array_new()};
	g_autoptr(GString) sizes = g_string_new(NULL);
	gsize total = 0;

	for (int i = 0; i <= 3; i++) {
		g_autofree char *p = i == 0 ? g_strdup(path) : g_strdup_printf("%s.%d", path, i);
		gsize size;
		guint lines;
		read_k8s_file(p, got, &size, &lines);
		g_string_append_printf(sizes, " %s: %zu bytes in %u lines;", p, size, lines);
		total += size;
		if (cfg->log_size_max > 0)
			fuzz_check(size <= (gsize)cfg->log_size_max || lines == 1,
				   "%s holds %zu bytes in %u lines, over --log-size-max %" G_GINT64_FORMAT, p, size,
				   lines, cfg->log_size_max);
	}
	if (cfg->log_global_size_max > 0)
		fuzz_check(total <= (gsize)cfg->log_global_size_max + MAX_LINE_COST,
			   "%zu bytes logged, over --log-global-size-max %" G_GINT64_FORMAT " and a line:%s", total,
			   cfg->log_global_size_max, sizes->str);
	if (cfg->log_size_max <= 0 && cfg->log_global_size_max <= 0 && !reopened)
		for (int s = 0; s < 2; s++)
			fuzz_check(got[s]->len == jm->written[s]->len &&
					   (got[s]->len == 0 || memcmp(got[s]->data, jm->written[s]->data, got[s]->len) == 0),
				   "the k8s file does not hold what stream %d wrote (%u of %u bytes)", s, got[s]->len,
				   jm->written[s]->len);
	g_byte_array_unref(got[0]);
	g_byte_array_unref(got[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *path = g_build_filename(fuzz_tmpdir(), "ctr.log", NULL);
	g_autoptr(GError) error = NULL;
	JournalModel jm = {.written = {g_byte_array_new(), g_byte_array_new()}};
	gboolean reopened = FALSE;
	FuzzInput in;

	fuzz_init();
	fuzz_clear_dir(fuzz_tmpdir());
	records = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	record_lens = g_array_new(FALSE, FALSE, sizeof(gsize));
	fuzz_input_init(&in, data, size);
	guint8 flags = fuzz_take_u8(&in);
	guint8 size_sel = fuzz_take_u8(&in);
	guint8 global_sel = fuzz_take_u8(&in);
	guint8 files = fuzz_take_u8(&in);
	g_autoptr(MonitorConfig) cfg = make_config(flags, size_sel, global_sel, files, path);
	jm.mark_partial = !cfg->no_container_partial_message;

	LogSet *ls = log_set_new(cfg, &error);
	fuzz_check(ls != NULL, "log_set_new: %s", error ? error->message : "?");
	fuzz_check(cfg->k8s_log_fd < 0, "log_set_new did not take the k8s fd");

	while (in.left > 0) {
		guint8 op = fuzz_take_u8(&in) & 3;
		gsize want = fuzz_take_u16(&in), len;
		const guint8 *chunk = fuzz_take_bytes(&in, MIN(want, LOG_CHUNK_MAX), &len);
		if (op == 2) {
			g_clear_error(&error);
			(void)log_set_reopen(ls, &error);
			reopened = TRUE;
			continue;
		}
		int s = op == 1;
		guint before = records->len;
		log_set_write(ls, s == 1, chunk, len);
		g_byte_array_append(jm.written[s], chunk, (guint)len);
		for (guint r = before; r < records->len; r++)
			check_record(&jm, r, s, FALSE);
	}

	guint before = records->len;
	log_set_finish(ls);
	/* what was held back goes out now, stdout's first (conmon-interface.md#end-of-output) */
	for (guint r = before; r < records->len; r++) {
		int s = jm.consumed[0] < jm.written[0]->len ? 0 : 1;
		check_record(&jm, r, s, TRUE);
	}
	if (cfg->use_journald)
		for (int s = 0; s < 2; s++)
			fuzz_check(jm.consumed[s] == jm.written[s]->len, "journald lost %zu bytes of stream %d",
				   jm.written[s]->len - jm.consumed[s], s);
	else
		fuzz_check(records->len == 0, "journald records without the journald driver");
	log_set_free(ls);
	if (cfg->use_k8s_file)
		check_k8s(cfg, path, &jm, reopened);

	g_byte_array_unref(jm.written[0]);
	g_byte_array_unref(jm.written[1]);
	g_clear_pointer(&records, g_ptr_array_unref);
	g_clear_pointer(&record_lens, g_array_unref);
	return 0;
}
