/* What the files of the opes tool share (docs/cli.md is the contract). */
#ifndef OPES_TOOL_CLI_H
#define OPES_TOOL_CLI_H

#include <stddef.h>

/* Exit codes: docs/cli.md "Exit status". */
enum {
    EX_DONE = 0,     /* done */
    EX_WANTING = 1,  /* the input was judged and found wanting */
    EX_NOTINPUT = 2, /* the input is not what the command reads (or unreadable) */
    EX_NOTHING = 3,  /* nothing to do by rule */
    EX_USAGE = 64,   /* usage error, incl. an option value refused */
    EX_SOFTWARE = 70 /* internal failure (out of memory) */
};

/* A usage error on stderr: the message, then the argument it is about (if
 * any), then a hint to --help. */
void usage_error(const char *msg, const char *arg);

/* Open FILE ("-" or NULL = stdin) and read it whole into a malloc'd buffer.
 * EX_DONE, or the exit code on failure (a diagnostic is printed). */
int load_input(const char *path, char **buf, size_t *len);

/* Header parse flags for a message read from a file: OPES_HEADER_LF when
 * its first line ends with a bare LF (a Unix file), and OPES_HEADER_8BIT
 * (real headers carry raw 8-bit bytes; the tool reports, it does not
 * judge them). */
unsigned message_header_flags(const char *buf, size_t len);

/* opes smtp check (tools/cmd_smtp_check.c) */
int cmd_smtp_check(int argc, char **argv);
/* opes trace add|show, opes reply (tools/cmd_trace.c) */
int cmd_trace(int argc, char **argv);
int cmd_reply(int argc, char **argv);
/* opes bypass decide (tools/cmd_bypass.c) */
int cmd_bypass(int argc, char **argv);
/* opes dsn build (tools/cmd_dsn_build.c) */
int cmd_dsn_build(int argc, char **argv);
/* opes dsn parse (tools/cmd_dsn_parse.c) */
int cmd_dsn_parse(int argc, char **argv);

#endif
