/* conmon-kata: the monitor program, a drop-in for conmon's command line.
 *
 * main() only parses and validates the command line (cli.c), prints the
 * one resulting line and maps the result to an exit status
 * (conmon-contract.md §1.3: errors exit 1). The monitor itself (§2 on)
 * lives in run(), which is not implemented yet.
 *
 * Output goes through stdio, not g_print/g_printerr: those convert to the
 * locale's charset, and conmon's messages are written as raw bytes.
 */
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

#include "cli.h"

static void print_warnings(const MonitorConfig *cfg)
{
	if (cfg->log_level < MONITOR_LOG_LEVEL_WARNING)
		return;
	for (char **w = cfg->warnings; w != NULL && *w != NULL; w++)
		fprintf(stderr, "%s\n", *w);
}

static int run(MonitorConfig *cfg)
{
	(void)cfg;
	fputs("[conmon:e]: conmon-kata: the monitor is not implemented yet\n", stderr);
	return EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MonitorConfig) cfg = monitor_config_parse(argc, argv, &error);

	if (cfg == NULL) {
		fprintf(stderr, "%s\n", error->message);
		return EXIT_FAILURE;
	}

	/* Before every other check: CRI-O runs a bare --version (§1.3 step 2). */
	if (cfg->version) {
		g_autofree char *text = monitor_config_version_text();
		fputs(text, stdout);
		return EXIT_SUCCESS;
	}

	if (!monitor_config_validate(cfg, &error)) {
		fprintf(stderr, "%s\n", error->message);
		return EXIT_FAILURE;
	}
	print_warnings(cfg);

	return run(cfg);
}
