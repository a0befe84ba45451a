/*
 * stamp: one-way delivery latency of timestamped messages (Tools/bench/reliable).
 *
 *   stamp sink-udp PORT [--host H] [--seconds S] [--dump FILE]
 *       Receive datagrams, each one message; one shorter than a message header (16 bytes) is a health
 *       probe and is sent back.
 *   stamp sink-tcp PORT [--host H] [--seconds S] [--size B] [--dump FILE]
 *       Accept TCP connections and read B-byte messages from each (default 100).
 *   --dump FILE (both sinks) also writes one line per distinct message, in arrival order:
 *       "SEQUENCE SENT_NS LATENCY_NS". It tells a tail made by retransmissions (isolated late
 *       messages after a loss, and the ones queued behind them) from one made by the machine
 *       (every message in a stretch of time late together, the sender's stamps bunched).
 *   stamp send-tcp HOST PORT [--rate R] [--seconds S] [--size B] [--allow-private]
 *       Send B-byte messages over one TCP connection (TCP_NODELAY), R a second on a fixed
 *       schedule, or as fast as the connection takes them with --rate 0.
 *   stamp garbage HOST PORT [--rate R] [--seconds S] [--min B] [--max B] [--allow-private]
 *       Send datagrams of random bytes, sizes uniform in [min, max], R a second (0: as fast as
 *       possible), to measure what rejecting them costs the receiver.
 *
 * A message starts with its sequence number and the sender's CLOCK_MONOTONIC time in
 * nanoseconds (both 64-bit, little-endian); the rest is filler. Sender and sink must run on the
 * same machine (network namespaces share the monotonic clock), so the sink's receive time minus
 * the stamp is the message's one-way delivery latency, all queueing and retransmission included.
 *
 * A sink runs until SIGTERM/SIGINT or --seconds, then prints one line of key=value pairs:
 * messages (distinct sequences), duplicates, bytes, the first-to-last message rate, and latency
 * p50/p90/p99/p99.9/max in microseconds over every distinct message. A sender prints what it sent.
 * Senders refuse addresses other than loopback unless --allow-private is given, which also
 * accepts private ones (10/8, 172.16/12, 192.168/16): for a receiver in a network namespace of
 * the benchmark's own.
 *
 * Build: gcc -O2 -Wall -Wextra -o stamp stamp.c -lm
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEADER 16
#define MAX_MESSAGE 65536
#define MAX_SEQUENCES (1u << 24) /* distinct sequences a sink tracks: 16 M */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "stamp: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long parse_long(const char *name, const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max) die("%s must be an integer in %ld...%ld, not '%s'", name, min, max, s);
    return v;
}

static volatile sig_atomic_t g_stop;
static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* ------------------------------------------------------------------------------------------ */
/* options and addresses */

typedef struct {
    const char *host;
    double seconds; /* 0: until a signal */
    long rate;
    long size;
    long min, max;
    bool allow_private;
    const char *dump; /* sinks: per-message lines, or NULL */
} opts_t;

static opts_t parse_opts(int argc, char **argv, int first)
{
    opts_t o = {.host = "127.0.0.1", .seconds = 0, .rate = 1000, .size = 100, .min = 1, .max = 1500};
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--allow-private")) {
            o.allow_private = true;
            continue;
        }
        if (i + 1 >= argc) die("%s needs a value", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--host")) o.host = v;
        else if (!strcmp(a, "--seconds")) o.seconds = (double)parse_long(a, v, 0, 86400);
        else if (!strcmp(a, "--rate")) o.rate = parse_long(a, v, 0, 10000000);
        else if (!strcmp(a, "--size")) o.size = parse_long(a, v, HEADER, MAX_MESSAGE);
        else if (!strcmp(a, "--min")) o.min = parse_long(a, v, 1, 65507);
        else if (!strcmp(a, "--max")) o.max = parse_long(a, v, 1, 65507);
        else if (!strcmp(a, "--dump")) o.dump = v;
        else die("unknown option %s", a);
    }
    if (o.min > o.max) die("--min %ld is above --max %ld", o.min, o.max);
    return o;
}

static bool allowed(const struct sockaddr_storage *ss, bool allow_private)
{
    if (ss->ss_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
        if ((a >> 24) == 127) return true;
        if (!allow_private) return false;
        return (a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) || (a >> 16) == (192u << 8 | 168);
    }
    if (ss->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a)) return true;
        return allow_private && (a->s6_addr[0] & 0xfe) == 0xfc;
    }
    return false;
}

static struct sockaddr_storage resolve(const char *host, const char *port, socklen_t *len, int type,
                                       bool check, bool allow_private)
{
    struct addrinfo hints = {.ai_socktype = type, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) die("address %s port %s: %s (give a numeric address and port)", host, port, gai_strerror(rc));
    struct sockaddr_storage ss = {0};
    memcpy(&ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    if (check && !allowed(&ss, allow_private))
        die("%s is not a loopback address (use --allow-private for a private one in a namespace of your own)", host);
    return ss;
}

/* ------------------------------------------------------------------------------------------ */
/* sinks */

typedef struct {
    uint8_t *seen;        /* one bit a sequence */
    uint64_t *latencies;  /* ns, one per distinct message */
    uint64_t count, cap;
    uint64_t duplicates, bytes, malformed;
    uint64_t first_ns, last_ns;
    FILE *dump;
} sink_t;

static void sink_init(sink_t *s, const opts_t *o)
{
    memset(s, 0, sizeof *s);
    if (o->dump && !(s->dump = fopen(o->dump, "w"))) die("--dump %s: %s", o->dump, strerror(errno));
    s->seen = calloc(MAX_SEQUENCES / 8, 1);
    s->cap = 1 << 20;
    s->latencies = malloc(s->cap * sizeof *s->latencies);
    if (!s->seen || !s->latencies) die("out of memory");
}

static void sink_take(sink_t *s, const unsigned char *m, size_t len)
{
    uint64_t now = now_ns();
    s->bytes += len;
    if (len < HEADER) {
        s->malformed++;
        return;
    }
    uint64_t seq = get64(m), sent = get64(m + 8);
    if (seq >= MAX_SEQUENCES || sent > now) {
        s->malformed++;
        return;
    }
    uint8_t bit = (uint8_t)(1u << (seq & 7));
    if (s->seen[seq >> 3] & bit) {
        s->duplicates++;
        return;
    }
    s->seen[seq >> 3] |= bit;
    if (s->count == s->cap) {
        s->cap *= 2;
        s->latencies = realloc(s->latencies, s->cap * sizeof *s->latencies);
        if (!s->latencies) die("out of memory");
    }
    s->latencies[s->count++] = now - sent;
    if (s->dump) fprintf(s->dump, "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", seq, sent, now - sent);
    if (!s->first_ns) s->first_ns = now;
    s->last_ns = now;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_us(const uint64_t *sorted, uint64_t n, double p)
{
    if (!n) return 0;
    uint64_t rank = (uint64_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return (double)sorted[rank - 1] / 1000.0;
}

static void sink_report(sink_t *s)
{
    if (s->dump && fclose(s->dump)) die("--dump: %s", strerror(errno));
    qsort(s->latencies, s->count, sizeof *s->latencies, cmp_u64);
    double span = s->count > 1 ? (double)(s->last_ns - s->first_ns) / 1e9 : 0;
    printf("messages=%" PRIu64 " duplicates=%" PRIu64 " malformed=%" PRIu64 " bytes=%" PRIu64
           " rate=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f p999_us=%.0f max_us=%.0f\n",
           s->count, s->duplicates, s->malformed, s->bytes, span > 0 ? (double)(s->count - 1) / span : 0,
           pct_us(s->latencies, s->count, 50), pct_us(s->latencies, s->count, 90),
           pct_us(s->latencies, s->count, 99), pct_us(s->latencies, s->count, 99.9),
           s->count ? (double)s->latencies[s->count - 1] / 1000.0 : 0);
    fflush(stdout);
}

static bool deadline_passed(const opts_t *o, uint64_t start)
{
    return g_stop || (o->seconds > 0 && (double)(now_ns() - start) / 1e9 >= o->seconds);
}

static int cmd_sink_udp(int argc, char **argv)
{
    if (argc < 3) die("usage: stamp sink-udp PORT [--host H] [--seconds S] [--dump FILE]");
    opts_t o = parse_opts(argc, argv, 3);
    socklen_t len;
    struct sockaddr_storage ss = resolve(o.host, argv[2], &len, SOCK_DGRAM, false, false);
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    int buf = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    if (bind(fd, (struct sockaddr *)&ss, len)) die("bind %s:%s: %s", o.host, argv[2], strerror(errno));
    sink_t s;
    sink_init(&s, &o);
    static unsigned char m[MAX_MESSAGE];
    printf("ready=1\n");
    fflush(stdout);
    uint64_t start = now_ns();
    while (!deadline_passed(&o, start)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) continue;
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, m, sizeof m, MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
        /* Shorter than a message: a health probe (relayd's UDP probe); answer it. */
        if (n >= 0 && n < HEADER) (void)sendto(fd, m, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&from, fromlen);
        else if (n >= 0) sink_take(&s, m, (size_t)n);
    }
    sink_report(&s);
    return 0;
}

static int cmd_sink_tcp(int argc, char **argv)
{
    if (argc < 3) die("usage: stamp sink-tcp PORT [--host H] [--seconds S] [--size B] [--dump FILE]");
    opts_t o = parse_opts(argc, argv, 3);
    socklen_t len;
    struct sockaddr_storage ss = resolve(o.host, argv[2], &len, SOCK_STREAM, false, false);
    int lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd < 0) die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&ss, len) || listen(lfd, 64))
        die("listen %s:%s: %s", o.host, argv[2], strerror(errno));
    sink_t s;
    sink_init(&s, &o);
    enum { MAXC = 64 };
    struct pollfd p[MAXC + 1];
    static unsigned char pending[MAXC][MAX_MESSAGE];
    size_t have[MAXC] = {0};
    int nconn = 0;
    p[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
    printf("ready=1\n");
    fflush(stdout);
    uint64_t start = now_ns();
    while (!deadline_passed(&o, start)) {
        if (poll(p, (nfds_t)nconn + 1, 100) <= 0) continue;
        if (p[0].revents & POLLIN) {
            int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
            if (c >= 0 && nconn < MAXC) {
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                p[nconn + 1] = (struct pollfd){.fd = c, .events = POLLIN};
                have[nconn++] = 0;
            } else if (c >= 0) {
                close(c);
            }
        }
        for (int i = 0; i < nconn; i++) {
            if (!(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            for (;;) {
                ssize_t n = recv(p[i + 1].fd, pending[i] + have[i], (size_t)o.size - have[i], MSG_DONTWAIT);
                if (n > 0) {
                    have[i] += (size_t)n;
                    if (have[i] == (size_t)o.size) {
                        sink_take(&s, pending[i], have[i]);
                        have[i] = 0;
                    }
                    continue;
                }
                if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                    close(p[i + 1].fd);
                    p[i + 1] = p[nconn];
                    memcpy(pending[i], pending[nconn - 1], have[nconn - 1]);
                    have[i] = have[nconn - 1];
                    nconn--;
                    i--;
                }
                break;
            }
        }
    }
    sink_report(&s);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* senders */

static void stamp_message(unsigned char *m, uint64_t seq)
{
    put64(m, seq);
    put64(m + 8, now_ns());
}

static int cmd_send_tcp(int argc, char **argv)
{
    if (argc < 4) die("usage: stamp send-tcp HOST PORT [--rate R] [--seconds S] [--size B] [--allow-private]");
    opts_t o = parse_opts(argc, argv, 4);
    if (o.seconds <= 0) o.seconds = 10;
    socklen_t len;
    struct sockaddr_storage ss = resolve(argv[2], argv[3], &len, SOCK_STREAM, true, o.allow_private);
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&ss, len)) die("connect %s:%s: %s", argv[2], argv[3], strerror(errno));
    unsigned char m[MAX_MESSAGE];
    memset(m, 0x5a, sizeof m);
    uint64_t start = now_ns(), seq = 0, late = 0;
    uint64_t interval = o.rate ? 1000000000u / (uint64_t)o.rate : 0;
    while (!deadline_passed(&o, start)) {
        if (interval) {
            uint64_t due = start + seq * interval, now = now_ns();
            if (now < due) {
                struct timespec ts = {.tv_sec = (time_t)((due - now) / 1000000000u),
                                      .tv_nsec = (long)((due - now) % 1000000000u)};
                nanosleep(&ts, NULL);
            } else if (now - due > 1000000) {
                late++;
            }
        }
        stamp_message(m, seq);
        size_t off = 0;
        while (off < (size_t)o.size) {
            ssize_t n = send(fd, m + off, (size_t)o.size - off, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) die("send to %s:%s: %s", argv[2], argv[3], strerror(errno));
            off += (size_t)n;
        }
        seq++;
    }
    double secs = (double)(now_ns() - start) / 1e9;
    printf("sent=%" PRIu64 " seconds=%.2f rate=%.0f late_over_1ms=%" PRIu64 "\n", seq, secs, (double)seq / secs, late);
    /* Leave the connection open a moment so the tail is delivered before the FIN. */
    shutdown(fd, SHUT_WR);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    poll(&p, 1, 5000);
    close(fd);
    return 0;
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int cmd_garbage(int argc, char **argv)
{
    if (argc < 4) die("usage: stamp garbage HOST PORT [--rate R] [--seconds S] [--min B] [--max B] [--allow-private]");
    opts_t o = parse_opts(argc, argv, 4);
    if (o.seconds <= 0) o.seconds = 10;
    socklen_t len;
    struct sockaddr_storage ss = resolve(argv[2], argv[3], &len, SOCK_DGRAM, true, o.allow_private);
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&ss, len)) die("connect %s:%s: %s", argv[2], argv[3], strerror(errno));
    enum { BATCH = 64 };
    static unsigned char bufs[BATCH][1500];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    uint64_t rng = 0x9e3779b97f4a7c15u ^ now_ns();
    uint64_t start = now_ns(), sent = 0, refused = 0;
    uint64_t interval = o.rate ? 1000000000u / (uint64_t)o.rate : 0;
    long maxlen = o.max > 1500 ? 1500 : o.max;
    while (!deadline_passed(&o, start)) {
        int batch = BATCH;
        if (interval) {
            uint64_t due = start + sent * interval, now = now_ns();
            if (now < due) {
                struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)((due - now) % 1000000000u)};
                nanosleep(&ts, NULL);
            }
            batch = 1;
        }
        for (int i = 0; i < batch; i++) {
            size_t size = (size_t)(o.min + (long)(xorshift(&rng) % (uint64_t)(maxlen - o.min + 1)));
            for (size_t j = 0; j < size; j += 8) {
                uint64_t r = xorshift(&rng);
                memcpy(bufs[i] + j, &r, size - j < 8 ? size - j : 8);
            }
            iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = size};
            msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
        }
        int n = sendmmsg(fd, msgs, (unsigned)batch, 0);
        if (n > 0) sent += (uint64_t)n;
        else if (errno == ECONNREFUSED) refused++;
        else if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR) die("sendmmsg: %s", strerror(errno));
    }
    double secs = (double)(now_ns() - start) / 1e9;
    printf("sent=%" PRIu64 " seconds=%.2f rate=%.0f refused=%" PRIu64 "\n", sent, secs, (double)sent / secs, refused);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) die("usage: stamp sink-udp|sink-tcp|send-tcp|garbage ... (see the comment at the top of stamp.c)");
    if (!strcmp(argv[1], "sink-udp")) return cmd_sink_udp(argc, argv);
    if (!strcmp(argv[1], "sink-tcp")) return cmd_sink_tcp(argc, argv);
    if (!strcmp(argv[1], "send-tcp")) return cmd_send_tcp(argc, argv);
    if (!strcmp(argv[1], "garbage")) return cmd_garbage(argc, argv);
    die("unknown command %s", argv[1]);
}
