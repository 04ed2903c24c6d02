/* log-journald: the journald log driver (conmon-interface.md#journald).
 *
 * Owns the records: one sd_journal_sendv() per line with conmon's fields in
 * conmon's order, the PRIORITY from the stream or a "<N>" prefix, and the
 * per-stream buffer that holds a partial line back until its end arrives
 * (or sends it flagged as partial when it does not fit, or at exit).
 *
 * Deliberately not here: validating --log-label and the 12-character
 * minimum of --cid (cli.c did, conmon-interface.md#validation), and any fallback when journald is
 * not running: a failed send is warned about once and the record is lost,
 * as with conmon.
 */

/* The header's sd_journal_sendv macro would append CODE_FILE, CODE_LINE and
 * CODE_FUNC naming this file. conmon-interface.md#journald lists the complete field set, and our
 * source location means nothing to an operator reading a container's log,
 * so send exactly the listed fields. */
#define SD_JOURNAL_SUPPRESS_LOCATION 1

#include "log-journald.h"

#include <string.h>
#include <sys/uio.h>

#include <systemd/sd-journal.h>

#include "base/ck-log.h"
#include "log-line.h"

/* conmon-interface.md#journald: CONTAINER_ID is the first 12 characters of --cid. */
#define SHORT_ID_LEN 12
#define MESSAGE_EQ "MESSAGE="
/* MESSAGE, CONTAINER_ID_FULL, PRIORITY, CONTAINER_ID, CONTAINER_TAG,
 * CONTAINER_NAME, SYSLOG_IDENTIFIER, CONTAINER_PARTIAL_MESSAGE */
#define FIXED_FIELDS_MAX 8

typedef struct {
	/* The held-back start of a line. Like conmon, at most 8191 bytes
	 * are held (conmon-interface.md#journald: "a partial piece that fits"). */
	guint8 buf[LOG_CHUNK_MAX];
	gsize len;
	/* The last record of this stream was partial, so the next one
	 * continues a line and cannot carry a "<N>" priority prefix. */
	gboolean continued;
} JournaldStream;

struct LogJournald {
	char *cid_full; /* "CONTAINER_ID_FULL=<cid>" */
	char *cid;	/* "CONTAINER_ID=<first 12>" */
	char *tag;	/* "CONTAINER_TAG=<tag>", NULL without --log-tag */
	char *name;	/* "CONTAINER_NAME=<name>", NULL without --name */
	char *ident;	/* "SYSLOG_IDENTIFIER=<tag|name|short id>" */
	char **labels;	/* --log-label, "KEY=VALUE" as given */
	gboolean mark_partial;
	JournaldStream streams[2]; /* stdout, stderr */
	gboolean warned;
};

gboolean log_journald_parse_priority(const guint8 *data, gsize len, int *out_priority)
{
	if (len < 3 || data[0] != '<' || data[1] < '0' || data[1] > '7' || data[2] != '>')
		return FALSE;
	*out_priority = data[1] - '0';
	return TRUE;
}

LogJournald *log_journald_new(const MonitorConfig *cfg)
{
	LogJournald *j = g_new0(LogJournald, 1);
	g_autofree char *short_id = g_strndup(cfg->cid, SHORT_ID_LEN);

	j->cid_full = g_strconcat("CONTAINER_ID_FULL=", cfg->cid, NULL);
	j->cid = g_strconcat("CONTAINER_ID=", short_id, NULL);
	if (cfg->log_tag != NULL)
		j->tag = g_strconcat("CONTAINER_TAG=", cfg->log_tag, NULL);
	if (cfg->name != NULL)
		j->name = g_strconcat("CONTAINER_NAME=", cfg->name, NULL);

	/* The identifier prefers the tag, then the name, then the short ID. */
	const char *ident = cfg->log_tag ? cfg->log_tag : cfg->name ? cfg->name : short_id;
	j->ident = g_strconcat("SYSLOG_IDENTIFIER=", ident, NULL);

	j->labels = g_strdupv(cfg->log_labels);
	j->mark_partial = !cfg->no_container_partial_message;
	return j;
}

void log_journald_free(LogJournald *j)
{
	if (j == NULL)
		return;
	g_free(j->cid_full);
	g_free(j->cid);
	g_free(j->tag);
	g_free(j->name);
	g_free(j->ident);
	g_strfreev(j->labels);
	g_free(j);
}

static void add_field(struct iovec *iov, int *n, const char *field)
{
	if (field == NULL)
		return;
	iov[*n].iov_base = (void *)field;
	iov[*n].iov_len = strlen(field);
	(*n)++;
}

/* "MESSAGE=" + the held-back bytes + piece, without a "<N>" prefix that
 * starts a fresh line; *priority is updated when there was one. */
static GByteArray *build_message(const JournaldStream *s, const guint8 *piece, gsize n, int *priority)
{
	GByteArray *msg = g_byte_array_sized_new(sizeof MESSAGE_EQ + s->len + n);
	const guint start = sizeof MESSAGE_EQ - 1;

	g_byte_array_append(msg, (const guint8 *)MESSAGE_EQ, start);
	g_byte_array_append(msg, s->buf, (guint)s->len);
	g_byte_array_append(msg, piece, (guint)n);
	if (!s->continued && log_journald_parse_priority(msg->data + start, msg->len - start, priority))
		g_byte_array_remove_range(msg, start, 3);
	return msg;
}

static void send_record(LogJournald *j, gboolean is_stderr, const guint8 *piece, gsize n, gboolean partial)
{
	JournaldStream *s = &j->streams[is_stderr ? 1 : 0];
	int priority = is_stderr ? 3 : 6;
	g_autoptr(GByteArray) msg = build_message(s, piece, n, &priority);
	char prio_field[] = "PRIORITY=6";
	guint n_labels = j->labels ? g_strv_length(j->labels) : 0;
	g_autofree struct iovec *iov = g_new(struct iovec, FIXED_FIELDS_MAX + n_labels);
	int n_iov = 0;

	prio_field[sizeof prio_field - 2] = (char)('0' + priority);

	/* conmon-interface.md#journald: this order, exactly. MESSAGE keeps its "\n" when complete;
	 * libsystemd then sends it in the binary form. */
	iov[n_iov++] = (struct iovec){.iov_base = msg->data, .iov_len = msg->len};
	add_field(iov, &n_iov, j->cid_full);
	add_field(iov, &n_iov, prio_field);
	add_field(iov, &n_iov, j->cid);
	add_field(iov, &n_iov, j->tag);
	add_field(iov, &n_iov, j->name);
	add_field(iov, &n_iov, j->ident);
	if (partial && j->mark_partial)
		add_field(iov, &n_iov, "CONTAINER_PARTIAL_MESSAGE=true");
	for (guint i = 0; i < n_labels; i++)
		add_field(iov, &n_iov, j->labels[i]);

	int r = sd_journal_sendv(iov, n_iov);
	if (r < 0) {
		if (!j->warned)
			ck_log_warning("journald: sending a log record failed: %s, continuing", g_strerror(-r));
		j->warned = TRUE;
	}
	s->len = 0;
	s->continued = partial;
}

void log_journald_write(LogJournald *j, gboolean is_stderr, const guint8 *data, gsize len)
{
	JournaldStream *s = &j->streams[is_stderr ? 1 : 0];

	for (gsize off = 0; off < len;) {
		gboolean partial;
		gsize n = log_next_line(data + off, len - off, &partial);

		/* Only the last piece of a chunk can be partial. Hold it back
		 * while it fits; the next chunk of this stream completes it. */
		if (partial && s->len + n < LOG_CHUNK_MAX) {
			memcpy(s->buf + s->len, data + off, n);
			s->len += n;
			return;
		}
		send_record(j, is_stderr, data + off, n, partial);
		off += n;
	}
}

void log_journald_finish(LogJournald *j)
{
	/* conmon-interface.md#end-of-output: at exit what is held back goes out as a partial record. */
	for (int i = 0; i < 2; i++)
		if (j->streams[i].len > 0)
			send_record(j, i == 1, NULL, 0, TRUE);
}
