/*
 * make bench: SMTP command parsing on commands.smtp (issue: foundation).
 * Figures: commands/s, MB/s, ns/command, the ratio to a memchr line scan of
 * the same bytes measured in the same run, and heap allocations per command
 * (goal: zero).
 */
#include "bench_util.h"

#include <opes/opes.h>
#include <stdio.h>
#include <stdlib.h>

struct ctx {
    const char *buf;
    size_t len;
    const opes_smtp_config *cfg;
    size_t commands, errors;
};

static void run_memchr(void *arg)
{
    struct ctx *c = arg;
    bench_sink(bench_memchr_lines(c->buf, c->len));
}

static void run_parse(void *arg)
{
    struct ctx *c = arg;
    size_t off = 0, n = 0, errs = 0;
    opes_command cmd;
    while (off < c->len) {
        size_t used = 0;
        opes_status st = opes_command_parse(c->cfg, c->buf + off, c->len - off, &cmd, &used);
        if (st == OPES_INCOMPLETE || used == 0)
            break;
        if (st != OPES_OK)
            errs++;
        n++;
        off += used;
    }
    c->commands = n;
    c->errors = errs;
    bench_sink(n);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared/bench";
    struct ctx c = {0};
    opes_smtp_config *cfg;
    static const char *const offer[] = {"PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "DSN",
                                        "AUTH", "ENHANCEDSTATUSCODES", "CHUNKING", "STARTTLS"};

    c.buf = bench_load(dir, "commands.smtp", &c.len);
    if (!c.buf)
        return 1;
    if (opes_smtp_config_new(&cfg, NULL) != OPES_OK)
        return 1;
    for (size_t i = 0; i < sizeof offer / sizeof offer[0]; i++)
        opes_smtp_config_offer(cfg, offer[i], 1, NULL);
    c.cfg = cfg;

    double t_memchr = bench_best(run_memchr, &c, 0.5);
    uint64_t a0 = bench_allocs();
    run_parse(&c);
    uint64_t allocs = bench_allocs() - a0;
    double t_parse = bench_best(run_parse, &c, 1.0);

    double mb = (double)c.len / 1e6;
    printf("== command parsing: commands.smtp (%.2f MB, %zu commands, %zu rejected)\n", mb,
           c.commands, c.errors);
    printf("  memchr line scan      %8.0f MB/s\n", mb / t_memchr);
    printf("  opes_command_parse    %8.0f MB/s  %6.2f M commands/s  %6.1f ns/command\n",
           mb / t_parse, (double)c.commands / t_parse / 1e6, t_parse * 1e9 / (double)c.commands);
    printf("  ratio to memchr       %8.3f  (goal >= 0.25; best known peer ~0.10)\n",
           t_memchr / t_parse);
    printf("  heap allocations      %8.3f per command (goal 0)\n",
           (double)allocs / (double)(c.commands ? c.commands : 1));
    opes_smtp_config_free(cfg);
    free((void *)c.buf);
    return c.errors ? 2 : 0;
}
