/*
 * mpstream: a constant-rate UDP stream and its echo, for the multipath benchmark.
 *
 *   mpstream --echo 127.0.0.1:PORT
 *       answers every datagram with itself, until SIGTERM.
 *   mpstream --to 127.0.0.1:PORT [--rate 100] [--seconds 60] [--size 200] [--grace-ms 2000]
 *       sends --rate datagrams a second of --size bytes for --seconds, each carrying its number and send time,
 *       and takes the echoes; after --grace-ms more, prints one line: sent, answered (distinct numbers),
 *       delivery ratio, duplicates seen, round-trip p50/p99/max in ms, and the payload bytes each way.
 *
 * Build: gcc -O2 -Wall -Wextra -o mpstream mpstream.c -lm
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void parse_addr(const char *text, struct sockaddr_in *out)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host) { fprintf(stderr, "bad address %s\n", text); exit(2); }
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = 0;
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &out->sin_addr) != 1) { fprintf(stderr, "bad address %s\n", text); exit(2); }
}

static int compare(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int echo(const char *address)
{
    struct sockaddr_in addr;
    parse_addr(address, &addr);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("bind"); return 1; }
    printf("ready=1\n");
    fflush(stdout);
    unsigned char buf[65536];
    while (!stop) {
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        if (n >= 0) sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *to = NULL;
    double rate = 100, seconds = 60;
    int size = 200, grace_ms = 2000;
    /* Without SA_RESTART, so that a signal ends the echo's blocking recvfrom. */
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "%s needs a value\n", a); return 2; }
        if (!strcmp(a, "--echo")) return echo(v);
        else if (!strcmp(a, "--to")) to = v;
        else if (!strcmp(a, "--rate")) rate = atof(v);
        else if (!strcmp(a, "--seconds")) seconds = atof(v);
        else if (!strcmp(a, "--size")) size = atoi(v);
        else if (!strcmp(a, "--grace-ms")) grace_ms = atoi(v);
        else { fprintf(stderr, "unknown option %s\n", a); return 2; }
        i++;
    }
    if (!to || size < 16) { fprintf(stderr, "usage: mpstream --to ADDRESS [options] | --echo ADDRESS\n"); return 2; }
    struct sockaddr_in addr;
    parse_addr(to, &addr);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("connect"); return 1; }
    uint64_t count = (uint64_t)(rate * seconds), gap = (uint64_t)(1e9 / rate);
    uint64_t *rtt = calloc(count, sizeof *rtt);
    unsigned char *seen = calloc(count, 1);
    unsigned char buf[65536];
    uint64_t start = now_ns(), sent = 0, answered = 0, duplicates = 0, bytes_out = 0, bytes_in = 0;
    uint64_t end = start + count * gap + (uint64_t)grace_ms * 1000000ull;
    while (!stop) {
        uint64_t now = now_ns();
        while (sent < count && start + sent * gap <= now) {
            memset(buf, 0x5A, (size_t)size);
            memcpy(buf, &sent, 8);
            memcpy(buf + 8, &now, 8);
            if (send(fd, buf, (size_t)size, 0) == size) bytes_out += (uint64_t)size;
            sent++;
        }
        if (now >= end) break;
        uint64_t next = sent < count ? start + sent * gap : end;
        struct pollfd pfd = {fd, POLLIN, 0};
        int wait_ms = next > now ? (int)((next - now) / 1000000ull) : 0;
        poll(&pfd, 1, wait_ms);
        for (;;) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n < 16) break;
            uint64_t number, at;
            memcpy(&number, buf, 8);
            memcpy(&at, buf + 8, 8);
            if (number >= count) continue;
            bytes_in += (uint64_t)n;
            if (seen[number]) { duplicates++; continue; }
            seen[number] = 1;
            rtt[answered++] = now_ns() - at;
        }
    }
    qsort(rtt, answered, sizeof *rtt, compare);
    double p50 = answered ? rtt[answered / 2] / 1e6 : 0, p99 = answered ? rtt[(answered * 99) / 100] / 1e6 : 0;
    double max = answered ? rtt[answered - 1] / 1e6 : 0;
    printf("sent=%" PRIu64 " answered=%" PRIu64 " delivery=%.4f duplicates=%" PRIu64
           " rtt_p50_ms=%.1f rtt_p99_ms=%.1f rtt_max_ms=%.1f bytes_out=%" PRIu64 " bytes_in=%" PRIu64 "\n",
           sent, answered, sent ? (double)answered / (double)sent : 0, duplicates, p50, p99, max, bytes_out, bytes_in);
    return 0;
}
