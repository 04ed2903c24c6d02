/* test-guest-hook: a static OCI hook for the hook tests, for a guest that
 * has no shell (tests/integration/test-agent-hooks.c).
 *
 *   test-guest-hook LABEL [STATE-COPY]
 *
 * Reads the OCI state on stdin and appends one line
 *
 *   <LABEL> <id> <pid> <status> <basename of argv[0]>
 *
 * to <bundle>/rootfs/hooks.log, the container's rootfs on the pod's shared
 * folder, where the test reads it on the host. With STATE-COPY it also
 * writes the state it read to that file. If the state's annotation
 * "ck-test.fail" is LABEL, it prints "<LABEL> hook failing on request" on
 * stderr and exits with status 3 instead. Kata's guest hooks get their
 * stage as LABEL (args [name, stage]).
 *
 * libc only, and a minimal reader of the state: the agent writes it
 * compact, keys in a fixed order, and the test's ids need no escapes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATE_MAX (64 * 1024)

static char state[STATE_MAX + 1];

static void fail(const char *what)
{
	fprintf(stderr, "test-guest-hook: %s\n", what);
	exit(2);
}

static size_t read_state(void)
{
	size_t len = 0;

	for (;;) {
		ssize_t n = read(0, state + len, STATE_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("cannot read stdin");
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == STATE_MAX)
			fail("state too large");
	}
	state[len] = '\0';
	return len;
}

/* The value of the first "key": in the state, as text, up to the next ','
 * or '}' (numbers) or the closing quote (strings, quotes removed). */
static char *value_of(const char *key)
{
	char needle[64];
	const char *p, *end;

	snprintf(needle, sizeof needle, "\"%s\":", key);
	p = strstr(state, needle);
	if (p == NULL)
		return NULL;
	p += strlen(needle);
	if (*p == '"') {
		p++;
		end = strchr(p, '"');
		if (end == NULL || memchr(p, '\\', (size_t)(end - p)) != NULL)
			fail("unexpected string in the state");
	} else {
		end = p + strcspn(p, ",}");
	}
	return strndup(p, (size_t)(end - p));
}

static void write_file(const char *path, int flags, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0) {
		fprintf(stderr, "test-guest-hook: %s: %s\n", path, strerror(errno));
		exit(2);
	}
}

int main(int argc, char **argv)
{
	char *id, *pid, *status, *bundle, *fail_on, line[1024], log[4096];
	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	size_t len;

	if (argc < 2 || argc > 3)
		fail("usage: test-guest-hook LABEL [STATE-COPY]");
	len = read_state();
	id = value_of("id");
	pid = value_of("pid");
	status = value_of("status");
	bundle = value_of("bundle");
	if (id == NULL || pid == NULL || status == NULL || bundle == NULL)
		fail("the state lacks id, pid, status or bundle");
	fail_on = value_of("ck-test.fail");
	if (fail_on != NULL && strcmp(fail_on, argv[1]) == 0) {
		fprintf(stderr, "%s hook failing on request\n", argv[1]);
		return 3;
	}
	snprintf(line, sizeof line, "%s %s %s %s %s\n", argv[1], id, pid, status, name);
	snprintf(log, sizeof log, "%s/rootfs/hooks.log", bundle);
	write_file(log, O_APPEND, line, strlen(line));
	if (argc == 3)
		write_file(argv[2], O_TRUNC, state, len);
	return 0;
}
