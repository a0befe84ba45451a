/*
 * udplink: a UDP path with delay, loss and a blackhole at a set time, for the multipath benchmark.
 *
 *   udplink --listen 127.0.0.1:PORT --to 127.0.0.1:PORT [--delay-ms N] [--loss PERCENT] [--seed N]
 *           [--blackhole-after-ms N]
 *
 * Datagrams sent to --listen go to --to from a socket of udplink's own; the answers go back to whoever sent
 * to --listen last. Each direction is delayed by --delay-ms (so a round trip gains twice that), and each
 * datagram is lost with probability --loss percent, independently per direction, from a xorshift64*
 * generator seeded with --seed (same traffic, same losses). From --blackhole-after-ms after the start,
 * everything is dropped both ways: the link is cut. Prints `ready=1` once bound, and on SIGTERM or SIGINT
 * one line of counts: datagrams and bytes carried each way (up = towards --to), bytes offered each way (sent
 * into the link, whatever became of them), and drops by cause.
 *
 * It works at the UDP level, not on IP packets like Tools/bench/delaylink: no TUN devices or network
 * namespaces are needed, and each link is its own loopback port, which is how the multipath client tells
 * links apart anyway.
 *
 * Build: gcc -O2 -Wall -Wextra -o udplink udplink.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PKT_MAX 65536
#define QUEUE 65536

struct held { uint64_t due; int len; unsigned char *data; };
struct queue { struct held items[QUEUE]; unsigned head, tail; };

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng;
static double draw(void)
{
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return (double)((rng * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
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

static int push(struct queue *q, uint64_t due, const unsigned char *data, int len)
{
    if (q->tail - q->head >= QUEUE) return -1;
    struct held *h = &q->items[q->tail % QUEUE];
    h->data = realloc(h->data, (size_t)len);
    memcpy(h->data, data, (size_t)len);
    h->len = len;
    h->due = due;
    q->tail++;
    return 0;
}

int main(int argc, char **argv)
{
    const char *listen_text = NULL, *to_text = NULL;
    double delay_ms = 0, loss = 0;
    long long blackhole_after_ms = -1;
    rng = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) { fprintf(stderr, "%s needs a value\n", a); return 2; }
        if (!strcmp(a, "--listen")) listen_text = v;
        else if (!strcmp(a, "--to")) to_text = v;
        else if (!strcmp(a, "--delay-ms")) delay_ms = atof(v);
        else if (!strcmp(a, "--loss")) loss = atof(v) / 100.0;
        else if (!strcmp(a, "--seed")) rng = strtoull(v, NULL, 10) | 1;
        else if (!strcmp(a, "--blackhole-after-ms")) blackhole_after_ms = atoll(v);
        else { fprintf(stderr, "unknown option %s\n", a); return 2; }
        i++;
    }
    if (!listen_text || !to_text) { fprintf(stderr, "usage: udplink --listen A --to B [options]\n"); return 2; }
    struct sockaddr_in listen_addr, to_addr, near = {0};
    parse_addr(listen_text, &listen_addr);
    parse_addr(to_text, &to_addr);
    int front = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int back = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int size = 4 << 20;
    setsockopt(front, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(back, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (bind(front, (struct sockaddr *)&listen_addr, sizeof listen_addr) != 0) { perror("bind"); return 1; }
    if (connect(back, (struct sockaddr *)&to_addr, sizeof to_addr) != 0) { perror("connect"); return 1; }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("ready=1\n");
    fflush(stdout);

    static struct queue up, down;
    static unsigned char buf[PKT_MAX];
    uint64_t start = now_ns(), delay = (uint64_t)(delay_ms * 1e6);
    uint64_t up_pkts = 0, up_bytes = 0, down_pkts = 0, down_bytes = 0, lost = 0, cut = 0, overflow = 0;
    uint64_t offered_up = 0, offered_down = 0;
    bool have_near = false;
    while (!stop) {
        uint64_t now = now_ns();
        bool blackholed = blackhole_after_ms >= 0 && now - start >= (uint64_t)blackhole_after_ms * 1000000ull;
        /* Send what is due. */
        while (up.head != up.tail && up.items[up.head % QUEUE].due <= now) {
            struct held *h = &up.items[up.head++ % QUEUE];
            if (send(back, h->data, (size_t)h->len, 0) == h->len) { up_pkts++; up_bytes += (uint64_t)h->len; }
        }
        while (down.head != down.tail && down.items[down.head % QUEUE].due <= now) {
            struct held *h = &down.items[down.head++ % QUEUE];
            if (sendto(front, h->data, (size_t)h->len, 0, (struct sockaddr *)&near, sizeof near) == h->len) {
                down_pkts++; down_bytes += (uint64_t)h->len;
            }
        }
        uint64_t next = UINT64_MAX;
        if (up.head != up.tail) next = up.items[up.head % QUEUE].due;
        if (down.head != down.tail && down.items[down.head % QUEUE].due < next) next = down.items[down.head % QUEUE].due;
        struct pollfd fds[2] = {{front, POLLIN, 0}, {back, POLLIN, 0}};
        struct timespec timeout = {0, 50000000}, *wait = &timeout;
        if (next != UINT64_MAX) {
            uint64_t gap = next > now ? next - now : 0;
            timeout.tv_sec = (time_t)(gap / 1000000000ull);
            timeout.tv_nsec = (long)(gap % 1000000000ull);
        }
        if (ppoll(fds, 2, wait, NULL) < 0 && errno != EINTR) { perror("ppoll"); return 1; }
        now = now_ns();
        for (;;) {
            struct sockaddr_in from;
            socklen_t from_len = sizeof from;
            ssize_t n = recvfrom(front, buf, sizeof buf, 0, (struct sockaddr *)&from, &from_len);
            if (n < 0) break;
            near = from;
            have_near = true;
            offered_up += (uint64_t)n;
            if (blackholed) { cut++; continue; }
            if (draw() < loss) { lost++; continue; }
            if (push(&up, now + delay, buf, (int)n) != 0) overflow++;
        }
        for (;;) {
            ssize_t n = recv(back, buf, sizeof buf, 0);
            if (n < 0) break;
            if (!have_near) continue;
            offered_down += (uint64_t)n;
            if (blackholed) { cut++; continue; }
            if (draw() < loss) { lost++; continue; }
            if (push(&down, now + delay, buf, (int)n) != 0) overflow++;
        }
    }
    printf("up_datagrams=%" PRIu64 " up_bytes=%" PRIu64 " down_datagrams=%" PRIu64 " down_bytes=%" PRIu64
           " offered_up_bytes=%" PRIu64 " offered_down_bytes=%" PRIu64
           " dropped_loss=%" PRIu64 " dropped_blackhole=%" PRIu64 " dropped_queue=%" PRIu64 "\n",
           up_pkts, up_bytes, down_pkts, down_bytes, offered_up, offered_down, lost, cut, overflow);
    return 0;
}
