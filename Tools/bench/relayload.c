/*
 * relayload: the load tool of relayd's benchmark harness (Tools/bench/run).
 *
 * One binary, several subcommands, all epoll-driven and non-blocking:
 *
 *   echo-server PORT [--host H] [--threads T]
 *       Echo backend: T threads, each with its own SO_REUSEPORT listener and epoll loop.
 *   connrate HOST PORT [--threads T] [--concurrency C] [--seconds S] [--size B]
 *       Short connections: connect, send B bytes, read the B-byte echo, close; repeat.
 *   rr HOST PORT [--threads T] [--connections C] [--seconds S] [--size B]
 *       Request/response on persistent connections; latency histogram.
 *   hold HOST PORT --count N [--seconds S] [--parallel P]
 *       Open N idle connections, report when all are established, hold them.
 *   ttfb HOST PORT [--rate R] [--seconds S | --count N] [--size B] [--samples FILE]
 *       Time to first byte at a fixed rate of new connections: connect, send B bytes, time until
 *       the first byte of the answer, read the whole echo, close. One sample per connection.
 *   probe HOST PORT [--size B] [--timeout-ms MS]
 *       One echo round trip; exit status 0 when it worked (readiness check).
 *   udp-probe HOST PORT [--timeout-ms MS]
 *       One UDP round trip with a sockperf-format ping; exit status 0 when a reply came back.
 *   freeport [--count N]
 *       Print N distinct ports free for TCP and UDP on 127.0.0.1, outside the ephemeral range.
 *
 * Results go to stdout as one line of key=value pairs; messages go to stderr.
 * Targets must be loopback addresses: this tool refuses anything else, unless --allow-private is
 * given, which also accepts private addresses (10/8, 172.16/12, 192.168/16, fc00::/7): for a
 * backend in a network namespace of the benchmark's own, behind a link with added delay
 * (Tools/bench/pool).
 *
 * Build: gcc -O2 -pthread -Wall -Wextra -o relayload relayload.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE (16u << 20) /* largest --size accepted */
#define MAX_EVENTS 256

/* ------------------------------------------------------------------------------------------ */
/* small helpers                                                                              */
/* ------------------------------------------------------------------------------------------ */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("relayload: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        die("out of memory");
    return p;
}

static long parse_long(const char *name, const char *s, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max)
        die("%s: expected an integer in [%ld, %ld], got '%s'", name, min, max, s);
    return v;
}

static double parse_double(const char *name, const char *s, double min, double max)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || v < min || v > max)
        die("%s: expected a number in [%g, %g], got '%s'", name, min, max, s);
    return v;
}

static void set_nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Make sure `need` descriptors fit under RLIMIT_NOFILE, raising the soft limit up to the hard
 * one if that is enough. Dies with a clear message otherwise. */
static void ensure_nofile(long need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        die("getrlimit: %s", strerror(errno));
    if ((rlim_t)need <= rl.rlim_cur)
        return;
    if (rl.rlim_max != RLIM_INFINITY && (rlim_t)need > rl.rlim_max)
        die("EMFILE: need %ld file descriptors but the hard limit (ulimit -Hn) is %llu; "
            "lower the count or raise the limit",
            need, (unsigned long long)rl.rlim_max);
    rl.rlim_cur = (rlim_t)need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        die("EMFILE: cannot raise ulimit -n to %ld: %s", need, strerror(errno));
}

/* Messages for the errors a load generator hits when it runs out of local resources. */
static const char *resource_hint(int err)
{
    switch (err) {
    case EADDRNOTAVAIL:
        return "EADDRNOTAVAIL: no free local port for a new connection (ephemeral ports "
               "exhausted, see net.ipv4.ip_local_port_range and TIME_WAIT sockets)";
    case EMFILE:
        return "EMFILE: this process reached its open-file limit (raise ulimit -n)";
    case ENFILE:
        return "ENFILE: the system-wide open-file limit was reached (fs.file-max)";
    default:
        return NULL;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* addresses: loopback only                                                                   */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    struct sockaddr_storage ss;
    socklen_t len;
    int family;
} addr_t;

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

/* Private (RFC 1918 / unique local) addresses: accepted with --allow-private only. */
static bool is_private(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET) {
        uint32_t v = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);
        return (v >> 24) == 10 || (v >> 20) == 0xac1 || (v >> 16) == 0xc0a8;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        return (in6->sin6_addr.s6_addr[0] & 0xfe) == 0xfc;
    }
    return false;
}

static bool g_allow_private; /* --allow-private */

static addr_t resolve(const char *host, const char *port)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    (void)parse_long("port", port, 1, 65535);
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        die("address '%s' port '%s': %s (give a numeric loopback address)", host, port,
            gai_strerror(rc));
    addr_t a = {0};
    memcpy(&a.ss, res->ai_addr, res->ai_addrlen);
    a.len = res->ai_addrlen;
    a.family = res->ai_family;
    freeaddrinfo(res);
    if (g_allow_private && is_private(&a.ss))
        return a;
    if (!is_loopback(&a.ss))
        die("'%s' is not a loopback address: this tool only talks to 127.0.0.0/8 or ::1%s", host,
            g_allow_private ? " and, with --allow-private, to private addresses"
                            : " (see --allow-private)");
    return a;
}

/* ------------------------------------------------------------------------------------------ */
/* latency histogram: log-linear, 64 sub-buckets per power of two (< 0.8% error), fixed size  */
/* ------------------------------------------------------------------------------------------ */

#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_BUCKETS (HIST_SUB + (64 - HIST_SUB_BITS) * HIST_SUB)

typedef struct {
    uint64_t counts[HIST_BUCKETS];
    uint64_t total;
    uint64_t max;
} hist_t;

static unsigned hist_index(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* v in [2^e, 2^(e+1)), e >= 6 */
    unsigned sub = (unsigned)(v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1);
    return HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB + sub;
}

/* Middle of a bucket's range. */
static double hist_value(unsigned idx)
{
    if (idx < HIST_SUB)
        return (double)idx;
    unsigned e = (idx - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
    unsigned sub = (idx - HIST_SUB) % HIST_SUB;
    uint64_t width = 1ull << (e - HIST_SUB_BITS);
    uint64_t low = ((uint64_t)HIST_SUB + sub) * width;
    return (double)low + (double)(width - 1) / 2.0;
}

static void hist_add(hist_t *h, uint64_t v)
{
    h->counts[hist_index(v)]++;
    h->total++;
    if (v > h->max)
        h->max = v;
}

static void hist_merge(hist_t *into, const hist_t *from)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        into->counts[i] += from->counts[i];
    into->total += from->total;
    if (from->max > into->max)
        into->max = from->max;
}

/* Percentile p in [0, 1], in the histogram's unit. */
static double hist_pct(const hist_t *h, double p)
{
    if (h->total == 0)
        return 0.0;
    uint64_t rank = (uint64_t)(p * (double)h->total + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            double v = hist_value(i);
            return v > (double)h->max ? (double)h->max : v;
        }
    }
    return (double)h->max;
}

/* ------------------------------------------------------------------------------------------ */
/* shared option parsing for the client subcommands                                           */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    const char *host, *port;
    long threads, concurrency, size, count, parallel, timeout_ms, max_inflight;
    double seconds, rate;
    bool seconds_given;
    const char *samples; /* ttfb: per-connection samples written here */
} opts_t;

static opts_t parse_opts(int argc, char **argv, int npos, const char *usage)
{
    opts_t o = {.threads = 2, .concurrency = 64, .size = 100, .count = 0, .parallel = 128,
                .timeout_ms = 5000, .seconds = 5.0, .rate = 20.0, .max_inflight = 64};
    const char *pos[2] = {NULL, NULL};
    int got = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] != '-') {
            if (got >= npos)
                die("unexpected argument '%s'\nusage: %s", a, usage);
            pos[got++] = a;
            continue;
        }
        if (!strcmp(a, "--allow-private")) { /* the only option without a value */
            g_allow_private = true;
            continue;
        }
        if (i + 1 >= argc)
            die("%s needs a value\nusage: %s", a, usage);
        const char *v = argv[++i];
        if (!strcmp(a, "--threads"))
            o.threads = parse_long(a, v, 1, 256);
        else if (!strcmp(a, "--concurrency") || !strcmp(a, "--connections"))
            o.concurrency = parse_long(a, v, 1, 1000000);
        else if (!strcmp(a, "--size"))
            o.size = parse_long(a, v, 1, MAX_SIZE);
        else if (!strcmp(a, "--count"))
            o.count = parse_long(a, v, 1, 10000000);
        else if (!strcmp(a, "--parallel"))
            o.parallel = parse_long(a, v, 1, 100000);
        else if (!strcmp(a, "--timeout-ms"))
            o.timeout_ms = parse_long(a, v, 1, 3600000);
        else if (!strcmp(a, "--seconds")) {
            o.seconds = parse_double(a, v, 0.01, 86400.0);
            o.seconds_given = true;
        } else if (!strcmp(a, "--rate"))
            o.rate = parse_double(a, v, 0.01, 100000.0);
        else if (!strcmp(a, "--max-inflight"))
            o.max_inflight = parse_long(a, v, 1, 100000);
        else if (!strcmp(a, "--samples"))
            o.samples = v;
        else if (!strcmp(a, "--host"))
            o.host = v;
        else
            die("unknown option '%s'\nusage: %s", a, usage);
    }
    if (got != npos)
        die("missing argument\nusage: %s", usage);
    if (npos == 1) {
        o.port = pos[0];
    } else if (npos == 2) {
        o.host = pos[0];
        o.port = pos[1];
    }
    return o;
}

/* Payload: a fixed pattern, so an echo can be checked with memcmp. */
static unsigned char *make_payload(size_t size)
{
    unsigned char *p = malloc(size);
    if (!p)
        die("out of memory");
    for (size_t i = 0; i < size; i++)
        p[i] = (unsigned char)('a' + (i % 26));
    return p;
}

/* ------------------------------------------------------------------------------------------ */
/* echo-server                                                                                */
/* ------------------------------------------------------------------------------------------ */

typedef struct {
    int fd;
    bool eof;             /* peer sent FIN: close once pending data is flushed */
    unsigned char *pend;  /* bytes read but not yet written back (only under backpressure) */
    size_t pend_len, pend_off;
} echo_conn_t;

typedef struct {
    int lfd, ep;
    unsigned char *buf;
    size_t bufsize;
} echo_thread_t;

#define ECHO_LISTENER ((uint64_t)0)

static void echo_close(echo_thread_t *t, echo_conn_t *c)
{
    (void)t;
    close(c->fd); /* also removes it from the epoll set */
    free(c->pend);
    free(c);
}

/* Write pending bytes. Returns 1 when all are written, 0 on would-block, -1 on error. */
static int echo_flush(echo_conn_t *c)
{
    while (c->pend_off < c->pend_len) {
        ssize_t n = send(c->fd, c->pend + c->pend_off, c->pend_len - c->pend_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->pend_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        } else {
            return -1;
        }
    }
    free(c->pend);
    c->pend = NULL;
    c->pend_len = c->pend_off = 0;
    return 1;
}

/* Read everything available and write it straight back. Returns false if the connection was
 * closed. Stops reading while written data is stuck (backpressure): the EPOLLOUT edge resumes. */
static bool echo_drive(echo_thread_t *t, echo_conn_t *c)
{
    if (c->pend) {
        int r = echo_flush(c);
        if (r < 0)
            goto closed;
        if (r == 0)
            return true;
    }
    while (!c->eof) {
        ssize_t n = recv(c->fd, t->buf, t->bufsize, 0);
        if (n > 0) {
            size_t off = 0;
            while (off < (size_t)n) {
                ssize_t w = send(c->fd, t->buf + off, (size_t)n - off, MSG_NOSIGNAL);
                if (w > 0) {
                    off += (size_t)w;
                } else if (w < 0 && errno == EINTR) {
                    continue;
                } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                    c->pend_len = (size_t)n - off;
                    c->pend_off = 0;
                    c->pend = malloc(c->pend_len);
                    if (!c->pend)
                        goto closed;
                    memcpy(c->pend, t->buf + off, c->pend_len);
                    return true;
                } else {
                    goto closed;
                }
            }
        } else if (n == 0) {
            c->eof = true;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return true;
        } else {
            goto closed;
        }
    }
    if (c->eof && !c->pend) {
        shutdown(c->fd, SHUT_WR);
        goto closed;
    }
    return true;
closed:
    echo_close(t, c);
    return false;
}

static void *echo_thread(void *arg)
{
    echo_thread_t *t = arg;
    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(t->ep, evs, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait: %s", strerror(errno));
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == ECHO_LISTENER) {
                for (;;) {
                    int fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                            continue;
                        if (errno == EMFILE || errno == ENFILE) {
                            /* Out of descriptors: say so once in a while, keep serving; the
                             * pause keeps the level-triggered listener from spinning. */
                            static _Atomic uint64_t last;
                            uint64_t now = now_ns();
                            if (now - atomic_load(&last) > 1000000000u) {
                                atomic_store(&last, now);
                                fprintf(stderr, "relayload echo-server: %s\n",
                                        resource_hint(errno));
                            }
                            usleep(10000);
                        }
                        break;
                    }
                    set_nodelay(fd);
                    echo_conn_t *c = xcalloc(1, sizeof *c);
                    c->fd = fd;
                    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                             .data.ptr = c};
                    if (epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        close(fd);
                        free(c);
                        continue;
                    }
                    /* Data may have arrived before registration; the edge would be lost. */
                    echo_drive(t, c);
                }
            } else {
                echo_drive(t, evs[i].data.ptr);
            }
        }
    }
    return NULL;
}

static int listen_on(const addr_t *a, bool reuseport)
{
    int fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
        die("SO_REUSEPORT: %s", strerror(errno));
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (listen(fd, 4096) < 0)
        die("listen: %s", strerror(errno));
    return fd;
}

static int cmd_echo_server(int argc, char **argv)
{
    const char *usage = "relayload echo-server PORT [--host 127.0.0.1] [--threads 2]";
    opts_t o = parse_opts(argc, argv, 1, usage);
    addr_t a = resolve(o.host ? o.host : "127.0.0.1", o.port);
    ensure_nofile(4096);
    {
        /* Use the whole hard limit: the hold test parks many idle connections here. */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    signal(SIGPIPE, SIG_IGN);
    echo_thread_t *ts = xcalloc((size_t)o.threads, sizeof *ts);
    /* One SO_REUSEPORT listener per thread. With port 0, the first bind picks the port and the
     * other threads join it. */
    for (long i = 0; i < o.threads; i++) {
        ts[i].lfd = listen_on(&a, true);
        if (ts[i].lfd < 0)
            die("bind %s port %s: %s", o.host ? o.host : "127.0.0.1", o.port, strerror(errno));
        if (i == 0) {
            getsockname(ts[i].lfd, (struct sockaddr *)&a.ss, &a.len);
        }
        ts[i].ep = epoll_create1(EPOLL_CLOEXEC);
        if (ts[i].ep < 0)
            die("epoll_create1: %s", strerror(errno));
        ts[i].bufsize = 256 * 1024;
        ts[i].buf = xcalloc(1, ts[i].bufsize);
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ECHO_LISTENER};
        if (epoll_ctl(ts[i].ep, EPOLL_CTL_ADD, ts[i].lfd, &ev) < 0)
            die("epoll_ctl: %s", strerror(errno));
    }
    int port = a.family == AF_INET ? ntohs(((struct sockaddr_in *)&a.ss)->sin_port)
                                   : ntohs(((struct sockaddr_in6 *)&a.ss)->sin6_port);
    printf("listening=1 port=%d threads=%ld\n", port, o.threads);
    fflush(stdout);
    pthread_t *tids = xcalloc((size_t)o.threads, sizeof *tids);
    for (long i = 0; i < o.threads; i++)
        if (pthread_create(&tids[i], NULL, echo_thread, &ts[i]) != 0)
            die("pthread_create failed");
    for (long i = 0; i < o.threads; i++)
        pthread_join(tids[i], NULL);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* client side: shared pieces                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* Error counters, per thread, summed at the end. */
typedef struct {
    uint64_t connect;     /* connect() failed: refused, unreachable, ... */
    uint64_t addr;        /* EADDRNOTAVAIL: ran out of local ports */
    uint64_t fds;         /* EMFILE / ENFILE */
    uint64_t reset;       /* connection reset or closed before the echo completed */
    uint64_t timeout;     /* no complete echo within --timeout-ms */
    uint64_t data;        /* echo did not match what was sent */
    int last_errno;
} errs_t;

static uint64_t errs_total(const errs_t *e)
{
    return e->connect + e->addr + e->fds + e->reset + e->timeout + e->data;
}

static void errs_merge(errs_t *into, const errs_t *from)
{
    into->connect += from->connect;
    into->addr += from->addr;
    into->fds += from->fds;
    into->reset += from->reset;
    into->timeout += from->timeout;
    into->data += from->data;
    if (from->last_errno)
        into->last_errno = from->last_errno;
}

static void errs_print(const errs_t *e)
{
    printf(" errors=%" PRIu64 " err_connect=%" PRIu64 " err_addrnotavail=%" PRIu64
           " err_nofile=%" PRIu64 " err_reset=%" PRIu64 " err_timeout=%" PRIu64
           " err_data=%" PRIu64,
           errs_total(e), e->connect, e->addr, e->fds, e->reset, e->timeout, e->data);
}

static void errs_explain(const errs_t *e)
{
    if (e->addr)
        fprintf(stderr, "relayload: %s\n", resource_hint(EADDRNOTAVAIL));
    if (e->fds)
        fprintf(stderr, "relayload: %s\n", resource_hint(EMFILE));
    if (e->connect && e->last_errno)
        fprintf(stderr, "relayload: last connect error: %s\n", strerror(e->last_errno));
}

/* Start a non-blocking connect. Returns the fd (connecting or connected) or -1 with errno. */
static int start_connect(const addr_t *a)
{
    int fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    set_nodelay(fd);
    if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void count_connect_error(errs_t *e, int err)
{
    if (err == EADDRNOTAVAIL)
        e->addr++;
    else if (err == EMFILE || err == ENFILE)
        e->fds++;
    else
        e->connect++;
    e->last_errno = err;
}

/* Connection state shared by connrate and rr. */
enum { ST_IDLE, ST_CONNECTING, ST_ACTIVE };

typedef struct {
    int fd;
    int state;
    uint32_t gen;       /* bumped on every new socket: stale epoll events are dropped */
    size_t sent, recvd; /* progress of the current exchange */
    uint64_t t_start;   /* connrate: connect start; rr: request start */
    uint64_t retry_at;  /* connrate: back-off after an error */
    bool connected;
} conn_t;

typedef struct {
    const addr_t *addr;
    const opts_t *o;
    const unsigned char *payload;
    long nconns;
    uint64_t t_begin, t_end;
    /* results */
    uint64_t done;
    errs_t errs;
    hist_t hist;
    long live_at_end;
    bool fatal;
} client_thread_t;

static uint64_t pack(uint32_t idx, uint32_t gen) { return ((uint64_t)gen << 32) | idx; }

/* Send what is left of the payload, then read the echo. Returns 1 when the exchange completed,
 * 0 when it would block, -1 on reset/EOF, -2 on data mismatch. `scratch` holds >= size bytes. */
static int exchange(conn_t *c, const unsigned char *payload, size_t size, unsigned char *scratch)
{
    while (c->sent < size) {
        ssize_t n = send(c->fd, payload + c->sent, size - c->sent, MSG_NOSIGNAL);
        if (n > 0)
            c->sent += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break; /* keep reading below: the echo may be what frees the window */
        else
            return -1;
    }
    while (c->recvd < c->sent) {
        ssize_t n = recv(c->fd, scratch, size - c->recvd, 0);
        if (n > 0) {
            if (memcmp(scratch, payload + c->recvd, (size_t)n) != 0)
                return -2;
            c->recvd += (size_t)n;
        } else if (n == 0) {
            return -1;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        } else {
            return -1;
        }
    }
    return c->recvd == size ? 1 : 0;
}

static int sock_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err;
}

static void split_evenly(long total, long parts, long idx, long *out)
{
    *out = total / parts + (idx < total % parts ? 1 : 0);
}

/* ------------------------------------------------------------------------------------------ */
/* connrate                                                                                   */
/* ------------------------------------------------------------------------------------------ */

static void cr_open(client_thread_t *t, int ep, conn_t *cs, uint32_t i, uint64_t now)
{
    conn_t *c = &cs[i];
    c->gen++;
    c->sent = c->recvd = 0;
    c->connected = false;
    c->t_start = now;
    c->fd = start_connect(t->addr);
    if (c->fd < 0) {
        count_connect_error(&t->errs, errno);
        c->state = ST_IDLE;
        c->retry_at = now + 10000000u; /* 10 ms: do not spin on a dead target */
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             .data.u64 = pack(i, c->gen)};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
    c->state = ST_CONNECTING;
}

static void cr_close(conn_t *c)
{
    close(c->fd);
    c->fd = -1;
    c->state = ST_IDLE;
}

static void cr_event(client_thread_t *t, int ep, conn_t *cs, uint32_t i, unsigned char *scratch)
{
    conn_t *c = &cs[i];
    size_t size = (size_t)t->o->size;
    uint64_t now;
    if (c->state == ST_CONNECTING) {
        int err = sock_error(c->fd);
        if (err) {
            count_connect_error(&t->errs, err);
            cr_close(c);
            c->retry_at = now_ns() + 10000000u;
            return;
        }
        c->state = ST_ACTIVE;
    }
    int r = exchange(c, t->payload, size, scratch);
    if (r == 0)
        return;
    now = now_ns();
    if (r == 1) {
        if (now <= t->t_end) {
            t->done++;
            hist_add(&t->hist, now - c->t_start);
        }
        cr_close(c);
    } else {
        if (r == -2)
            t->errs.data++;
        else
            t->errs.reset++;
        cr_close(c);
        c->retry_at = now + 10000000u;
        return;
    }
    if (now < t->t_end)
        cr_open(t, ep, cs, i, now);
}

static void *connrate_thread(void *arg)
{
    client_thread_t *t = arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1: %s", strerror(errno));
    conn_t *cs = xcalloc((size_t)t->nconns, sizeof *cs);
    unsigned char *scratch = xcalloc(1, (size_t)t->o->size);
    uint64_t timeout_ns = (uint64_t)t->o->timeout_ms * 1000000u;
    uint64_t now = now_ns();
    for (long i = 0; i < t->nconns; i++) {
        cs[i].fd = -1;
        cr_open(t, ep, cs, (uint32_t)i, now);
    }
    struct epoll_event evs[MAX_EVENTS];
    uint64_t next_scan = now + 10000000u;
    for (;;) {
        now = now_ns();
        if (now >= t->t_end)
            break;
        uint64_t wait_ns = next_scan > now ? next_scan - now : 0;
        if (t->t_end - now < wait_ns)
            wait_ns = t->t_end - now;
        int n = epoll_wait(ep, evs, MAX_EVENTS, (int)((wait_ns + 999999u) / 1000000u));
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int k = 0; k < n; k++) {
            uint32_t i = (uint32_t)evs[k].data.u64;
            uint32_t gen = (uint32_t)(evs[k].data.u64 >> 32);
            if (i >= (uint32_t)t->nconns || cs[i].gen != gen || cs[i].state == ST_IDLE)
                continue;
            cr_event(t, ep, cs, i, scratch);
        }
        now = now_ns();
        if (now >= next_scan) {
            next_scan = now + 10000000u;
            for (long i = 0; i < t->nconns && now < t->t_end; i++) {
                conn_t *c = &cs[i];
                if (c->state == ST_IDLE && now >= c->retry_at) {
                    cr_open(t, ep, cs, (uint32_t)i, now);
                } else if (c->state != ST_IDLE && now - c->t_start > timeout_ns) {
                    t->errs.timeout++;
                    cr_close(c);
                    cr_open(t, ep, cs, (uint32_t)i, now);
                }
            }
        }
    }
    for (long i = 0; i < t->nconns; i++)
        if (cs[i].fd >= 0)
            close(cs[i].fd);
    close(ep);
    free(cs);
    free(scratch);
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* rr: request/response on persistent connections                                             */
/* ------------------------------------------------------------------------------------------ */

/* Connect all of a thread's connections before the clock starts. */
static bool rr_connect_all(client_thread_t *t, int ep, conn_t *cs)
{
    uint64_t deadline = now_ns() + (uint64_t)t->o->timeout_ms * 1000000u;
    long pending = 0;
    for (long i = 0; i < t->nconns; i++) {
        cs[i].fd = start_connect(t->addr);
        if (cs[i].fd < 0) {
            count_connect_error(&t->errs, errno);
            return false;
        }
        cs[i].gen = 1;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                 .data.u64 = pack((uint32_t)i, 1)};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) < 0)
            die("epoll_ctl: %s", strerror(errno));
        cs[i].state = ST_CONNECTING;
        pending++;
    }
    struct epoll_event evs[MAX_EVENTS];
    while (pending > 0) {
        uint64_t now = now_ns();
        if (now >= deadline) {
            t->errs.timeout += (uint64_t)pending;
            return false;
        }
        int n = epoll_wait(ep, evs, MAX_EVENTS, (int)((deadline - now) / 1000000u) + 1);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int k = 0; k < n; k++) {
            conn_t *c = &cs[(uint32_t)evs[k].data.u64];
            if (c->state != ST_CONNECTING)
                continue;
            int err = sock_error(c->fd);
            if (err) {
                count_connect_error(&t->errs, err);
                return false;
            }
            if (evs[k].events & EPOLLOUT) {
                c->state = ST_ACTIVE;
                pending--;
            }
        }
    }
    return true;
}

static void *rr_thread(void *arg)
{
    client_thread_t *t = arg;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1: %s", strerror(errno));
    conn_t *cs = xcalloc((size_t)t->nconns, sizeof *cs);
    for (long i = 0; i < t->nconns; i++)
        cs[i].fd = -1;
    unsigned char *scratch = xcalloc(1, (size_t)t->o->size);
    size_t size = (size_t)t->o->size;
    struct epoll_event evs[MAX_EVENTS];
    long live = 0;

    if (!rr_connect_all(t, ep, cs)) {
        t->fatal = true;
        goto out;
    }
    /* Wait for the common start so that every thread measures the same window. */
    while (now_ns() < t->t_begin)
        usleep(100);
    uint64_t now = now_ns();
    for (long i = 0; i < t->nconns; i++) {
        conn_t *c = &cs[i];
        c->t_start = now;
        int r = exchange(c, t->payload, size, scratch);
        if (r < 0) {
            t->errs.reset++;
            close(c->fd);
            c->fd = -1;
            c->state = ST_IDLE;
        }
    }
    for (;;) {
        now = now_ns();
        if (now >= t->t_end)
            break;
        int n = epoll_wait(ep, evs, MAX_EVENTS, (int)((t->t_end - now) / 1000000u) + 1);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int k = 0; k < n; k++) {
            conn_t *c = &cs[(uint32_t)evs[k].data.u64];
            if (c->state != ST_ACTIVE)
                continue;
            for (;;) {
                int r = exchange(c, t->payload, size, scratch);
                if (r == 0)
                    break;
                if (r < 0) {
                    if (r == -2)
                        t->errs.data++;
                    else
                        t->errs.reset++;
                    close(c->fd);
                    c->fd = -1;
                    c->state = ST_IDLE;
                    break;
                }
                uint64_t done_at = now_ns();
                if (done_at > t->t_end)
                    break;
                t->done++;
                hist_add(&t->hist, done_at - c->t_start);
                /* Next request right away on the same connection. */
                c->sent = c->recvd = 0;
                c->t_start = done_at;
            }
        }
    }
out:
    for (long i = 0; i < t->nconns; i++) {
        if (cs[i].fd >= 0) {
            if (cs[i].state == ST_ACTIVE)
                live++;
            close(cs[i].fd);
        }
    }
    t->live_at_end = live;
    close(ep);
    free(cs);
    free(scratch);
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* connrate / rr driver                                                                       */
/* ------------------------------------------------------------------------------------------ */

static int run_clients(int argc, char **argv, bool rr)
{
    const char *usage =
        rr ? "relayload rr HOST PORT [--connections 32] [--seconds 5] [--size 100] [--threads 2]"
           : "relayload connrate HOST PORT [--concurrency 64] [--seconds 5] [--size 100] "
             "[--threads 2] [--timeout-ms 5000]";
    opts_t o = parse_opts(argc, argv, 2, usage);
    addr_t a = resolve(o.host, o.port);
    if (o.threads > o.concurrency)
        o.threads = o.concurrency;
    ensure_nofile(o.concurrency + 64);
    signal(SIGPIPE, SIG_IGN);
    unsigned char *payload = make_payload((size_t)o.size);

    client_thread_t *ts = xcalloc((size_t)o.threads, sizeof *ts);
    pthread_t *tids = xcalloc((size_t)o.threads, sizeof *tids);
    uint64_t dur = (uint64_t)(o.seconds * 1e9);
    /* rr connects first, then all threads start together; connrate starts at once. */
    uint64_t begin = now_ns() + (rr ? 200000000u : 0);
    for (long i = 0; i < o.threads; i++) {
        ts[i].addr = &a;
        ts[i].o = &o;
        ts[i].payload = payload;
        split_evenly(o.concurrency, o.threads, i, &ts[i].nconns);
        ts[i].t_begin = begin;
        ts[i].t_end = begin + dur;
        if (pthread_create(&tids[i], NULL, rr ? rr_thread : connrate_thread, &ts[i]) != 0)
            die("pthread_create failed");
    }
    hist_t *h = xcalloc(1, sizeof *h);
    errs_t e = {0};
    uint64_t done = 0;
    long live = 0;
    bool fatal = false;
    for (long i = 0; i < o.threads; i++) {
        pthread_join(tids[i], NULL);
        hist_merge(h, &ts[i].hist);
        errs_merge(&e, &ts[i].errs);
        done += ts[i].done;
        live += ts[i].live_at_end;
        fatal |= ts[i].fatal;
    }
    double secs = (double)dur / 1e9;
    if (rr) {
        printf("mode=rr connections=%ld threads=%ld size=%ld seconds=%.3f requests=%" PRIu64
               " rate=%.1f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f live_at_end=%ld",
               o.concurrency, o.threads, o.size, secs, done, (double)done / secs,
               hist_pct(h, 0.50) / 1e3, hist_pct(h, 0.99) / 1e3, hist_pct(h, 0.999) / 1e3,
               (double)h->max / 1e3, live);
    } else {
        printf("mode=connrate concurrency=%ld threads=%ld size=%ld seconds=%.3f conns=%" PRIu64
               " rate=%.1f p50_us=%.1f p99_us=%.1f",
               o.concurrency, o.threads, o.size, secs, done, (double)done / secs,
               hist_pct(h, 0.50) / 1e3, hist_pct(h, 0.99) / 1e3);
    }
    errs_print(&e);
    printf("\n");
    fflush(stdout);
    errs_explain(&e);
    if (fatal)
        fprintf(stderr, "relayload: could not open all %ld connections before the start\n",
                o.concurrency);
    return fatal || done == 0 ? 1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* hold                                                                                       */
/* ------------------------------------------------------------------------------------------ */

static volatile sig_atomic_t g_stop;
static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int cmd_hold(int argc, char **argv)
{
    const char *usage = "relayload hold HOST PORT --count N [--seconds S] [--parallel 128] "
                        "[--timeout-ms 5000]";
    opts_t o = parse_opts(argc, argv, 2, usage);
    if (o.count <= 0)
        die("--count is required\nusage: %s", usage);
    addr_t a = resolve(o.host, o.port);
    ensure_nofile(o.count + 32);

    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1: %s", strerror(errno));
    long n = o.count;
    int *fds = xcalloc((size_t)n, sizeof *fds);
    unsigned char *state = xcalloc((size_t)n, 1); /* 0 none, 1 connecting, 2 up, 3 closed */
    long opened = 0, pending = 0, up = 0, closed = 0;
    int fail_errno = 0;
    struct epoll_event evs[MAX_EVENTS];
    uint64_t t0 = now_ns();
    /* No progress for this long means the target is not accepting: give up. */
    uint64_t stall_ns = (uint64_t)o.timeout_ms * 1000000u, last_progress = t0;

    while (up < n && !g_stop && !fail_errno) {
        while (opened < n && pending < o.parallel) {
            int fd = start_connect(&a);
            if (fd < 0) {
                fail_errno = errno;
                break;
            }
            struct epoll_event ev = {.events = EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                     .data.u64 = (uint64_t)opened};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
                die("epoll_ctl: %s", strerror(errno));
            fds[opened] = fd;
            state[opened] = 1;
            opened++;
            pending++;
        }
        if (fail_errno)
            break;
        int k = epoll_wait(ep, evs, MAX_EVENTS, 100);
        if (k < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int j = 0; j < k; j++) {
            long i = (long)evs[j].data.u64;
            if (state[i] != 1)
                continue;
            int err = sock_error(fds[i]);
            if (err || (evs[j].events & (EPOLLERR | EPOLLHUP))) {
                fail_errno = err ? err : ECONNRESET;
                break;
            }
            if (evs[j].events & EPOLLOUT) {
                state[i] = 2;
                pending--;
                up++;
                last_progress = now_ns();
                /* From now on only a close by the peer is of interest. */
                struct epoll_event ev = {.events = EPOLLRDHUP | EPOLLET, .data.u64 = (uint64_t)i};
                epoll_ctl(ep, EPOLL_CTL_MOD, fds[i], &ev);
            }
        }
        if (now_ns() - last_progress > stall_ns) {
            fail_errno = ETIMEDOUT;
            break;
        }
    }
    double est_s = (double)(now_ns() - t0) / 1e9;
    if (up < n) {
        const char *hint = resource_hint(fail_errno);
        printf("established=%ld requested=%ld seconds=%.3f error=%s\n", up, n, est_s,
               fail_errno ? strerrorname_np(fail_errno) : "interrupted");
        fflush(stdout);
        if (hint)
            fprintf(stderr, "relayload hold: %s; %ld of %ld connections were established\n",
                    hint, up, n);
        else if (fail_errno)
            fprintf(stderr, "relayload hold: %s after %ld of %ld connections\n",
                    strerror(fail_errno), up, n);
        return 1;
    }
    printf("established=%ld requested=%ld seconds=%.3f\n", up, n, est_s);
    fflush(stdout);

    uint64_t end = o.seconds_given ? now_ns() + (uint64_t)(o.seconds * 1e9) : UINT64_MAX;
    while (!g_stop && now_ns() < end) {
        int k = epoll_wait(ep, evs, MAX_EVENTS, 200);
        if (k < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int j = 0; j < k; j++) {
            long i = (long)evs[j].data.u64;
            if (state[i] == 2 && (evs[j].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
                state[i] = 3;
                closed++;
            }
        }
    }
    printf("held=%ld closed_by_peer=%ld\n", up - closed, closed);
    fflush(stdout);
    for (long i = 0; i < opened; i++)
        close(fds[i]);
    return closed ? 1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* ttfb: time to first byte of fresh connections at a fixed rate                              */
/* ------------------------------------------------------------------------------------------ */

/* One connection in flight. A slot is free while fd < 0. */
typedef struct {
    int fd;
    uint32_t gen;
    bool connected;
    size_t sent, recvd;
    uint64_t t_start, t_connect, t_first;
} tt_conn_t;

typedef struct {
    uint64_t start, connect, first, done; /* ns; start from the beginning of the run, others from start */
} tt_sample_t;

static void tt_close(tt_conn_t *c, long *inflight)
{
    close(c->fd); /* also removes it from the epoll set */
    c->fd = -1;
    (*inflight)--;
}

/* Sends what is left of the request and reads what has come back. Returns 1 when the whole echo is
 * in, 0 when it would block, -1 on reset or EOF, -2 when the echo differs from the request. */
static int tt_drive(tt_conn_t *c, const unsigned char *payload, size_t size, unsigned char *scratch)
{
    while (c->sent < size) {
        ssize_t n = send(c->fd, payload + c->sent, size - c->sent, MSG_NOSIGNAL);
        if (n > 0)
            c->sent += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        else
            return -1;
    }
    while (c->recvd < size) {
        ssize_t n = recv(c->fd, scratch, size - c->recvd, 0);
        if (n > 0) {
            if (c->t_first == 0)
                c->t_first = now_ns();
            if (memcmp(scratch, payload + c->recvd, (size_t)n) != 0)
                return -2;
            c->recvd += (size_t)n;
        } else if (n == 0) {
            return -1;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        } else {
            return -1;
        }
    }
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p in [0, 1] of n sorted values; 0 when there are none. */
static double rank_pct(const uint64_t *sorted, uint64_t n, double p)
{
    if (n == 0)
        return 0.0;
    uint64_t rank = (uint64_t)(p * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return (double)sorted[rank - 1];
}

static int cmd_ttfb(int argc, char **argv)
{
    const char *usage =
        "relayload ttfb HOST PORT [--rate 20] [--seconds 5 | --count N] [--size 100] "
        "[--max-inflight 64] [--timeout-ms 5000] [--samples FILE] [--allow-private]";
    opts_t o = parse_opts(argc, argv, 2, usage);
    addr_t a = resolve(o.host, o.port);
    if (o.count > 0 && o.seconds_given)
        die("give --seconds or --count, not both\nusage: %s", usage);
    long planned = o.count > 0 ? o.count : (long)(o.seconds * o.rate + 0.5);
    if (planned < 1)
        die("--seconds x --rate gives no connection at all\nusage: %s", usage);
    ensure_nofile(o.max_inflight + 64);
    signal(SIGPIPE, SIG_IGN);
    FILE *samples_out = NULL;
    if (o.samples && !(samples_out = fopen(o.samples, "w")))
        die("cannot write %s: %s", o.samples, strerror(errno));

    size_t size = (size_t)o.size;
    unsigned char *payload = make_payload(size);
    unsigned char *scratch = xcalloc(1, size);
    tt_conn_t *cs = xcalloc((size_t)o.max_inflight, sizeof *cs);
    for (long i = 0; i < o.max_inflight; i++)
        cs[i].fd = -1;
    tt_sample_t *samples = xcalloc((size_t)planned, sizeof *samples);
    errs_t e = {0};
    uint64_t done = 0, skipped = 0, sum_first = 0;
    long started = 0, inflight = 0;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1: %s", strerror(errno));
    double interval_ns = 1e9 / o.rate;
    uint64_t timeout_ns = (uint64_t)o.timeout_ms * 1000000u;
    uint64_t t0 = now_ns();
    struct epoll_event evs[MAX_EVENTS];

    while (started < planned || inflight > 0) {
        uint64_t now = now_ns();
        /* Start every connection whose time has come: one every 1/rate seconds, on a fixed
         * schedule (a late start does not shift the ones after it). */
        while (started < planned && now >= t0 + (uint64_t)((double)started * interval_ns)) {
            long slot = -1;
            for (long i = 0; i < o.max_inflight && slot < 0; i++)
                if (cs[i].fd < 0)
                    slot = i;
            started++;
            if (slot < 0) {
                skipped++; /* --max-inflight connections still waiting: the target is too slow */
                continue;
            }
            tt_conn_t *c = &cs[slot];
            c->gen++;
            c->connected = false;
            c->sent = c->recvd = 0;
            c->t_first = c->t_connect = 0;
            c->t_start = now_ns();
            c->fd = start_connect(&a);
            if (c->fd < 0) {
                count_connect_error(&e, errno);
                continue;
            }
            inflight++;
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                     .data.u64 = pack((uint32_t)slot, c->gen)};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
                die("epoll_ctl: %s", strerror(errno));
            now = now_ns();
        }
        /* Connections that took too long. */
        uint64_t wake = UINT64_MAX;
        for (long i = 0; i < o.max_inflight; i++) {
            if (cs[i].fd < 0)
                continue;
            if (now - cs[i].t_start >= timeout_ns) {
                e.timeout++;
                tt_close(&cs[i], &inflight);
            } else if (cs[i].t_start + timeout_ns < wake) {
                wake = cs[i].t_start + timeout_ns;
            }
        }
        if (started < planned) {
            uint64_t next = t0 + (uint64_t)((double)started * interval_ns);
            if (next < wake)
                wake = next;
        }
        if (started >= planned && inflight == 0)
            break;
        int wait_ms = wake == UINT64_MAX ? 1000
                      : wake <= now      ? 0
                                         : (int)((wake - now + 999999u) / 1000000u);
        int n = epoll_wait(ep, evs, MAX_EVENTS, wait_ms);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int k = 0; k < n; k++) {
            uint32_t i = (uint32_t)evs[k].data.u64;
            uint32_t gen = (uint32_t)(evs[k].data.u64 >> 32);
            tt_conn_t *c = &cs[i];
            if (c->fd < 0 || c->gen != gen)
                continue;
            if (!c->connected) {
                int err = sock_error(c->fd);
                if (err) {
                    count_connect_error(&e, err);
                    tt_close(c, &inflight);
                    continue;
                }
                if (!(evs[k].events & EPOLLOUT))
                    continue;
                c->connected = true;
                c->t_connect = now_ns();
            }
            int r = tt_drive(c, payload, size, scratch);
            if (r == 0)
                continue;
            if (r == 1) {
                uint64_t end = now_ns();
                tt_sample_t *s = &samples[done++];
                s->start = c->t_start - t0;
                s->connect = c->t_connect - c->t_start;
                s->first = c->t_first - c->t_start;
                s->done = end - c->t_start;
                sum_first += s->first;
            } else if (r == -2) {
                e.data++;
            } else {
                e.reset++;
            }
            tt_close(c, &inflight);
        }
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    /* Exact percentiles (nearest rank) over every sample: they are all in memory anyway. */
    uint64_t *firsts = xcalloc(done ? done : 1, sizeof *firsts);
    uint64_t *connects = xcalloc(done ? done : 1, sizeof *connects);
    for (uint64_t i = 0; i < done; i++) {
        firsts[i] = samples[i].first;
        connects[i] = samples[i].connect;
    }
    qsort(firsts, done, sizeof *firsts, cmp_u64);
    qsort(connects, done, sizeof *connects, cmp_u64);
    printf("mode=ttfb rate=%.2f size=%ld planned=%ld seconds=%.3f conns=%" PRIu64
           " ttfb_p50_us=%.1f ttfb_p90_us=%.1f ttfb_p99_us=%.1f ttfb_max_us=%.1f"
           " ttfb_mean_us=%.1f connect_p50_us=%.1f connect_p99_us=%.1f skipped=%" PRIu64,
           o.rate, o.size, planned, secs, done, rank_pct(firsts, done, 0.50) / 1e3,
           rank_pct(firsts, done, 0.90) / 1e3, rank_pct(firsts, done, 0.99) / 1e3,
           rank_pct(firsts, done, 1.0) / 1e3, done ? (double)sum_first / (double)done / 1e3 : 0.0,
           rank_pct(connects, done, 0.50) / 1e3, rank_pct(connects, done, 0.99) / 1e3, skipped);
    errs_print(&e);
    printf("\n");
    fflush(stdout);
    errs_explain(&e);
    if (skipped)
        fprintf(stderr, "relayload ttfb: %" PRIu64 " connections were not started: %ld were "
                "still waiting for an answer (--max-inflight)\n", skipped, o.max_inflight);
    if (samples_out) {
        fprintf(samples_out, "start_ms\tconnect_us\tttfb_us\tdone_us\n");
        for (uint64_t i = 0; i < done; i++)
            fprintf(samples_out, "%.3f\t%.1f\t%.1f\t%.1f\n", (double)samples[i].start / 1e6,
                    (double)samples[i].connect / 1e3, (double)samples[i].first / 1e3,
                    (double)samples[i].done / 1e3);
        if (fclose(samples_out) != 0)
            die("writing %s: %s", o.samples, strerror(errno));
    }
    close(ep);
    return done == 0 ? 1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* probe, udp-probe, freeport                                                                 */
/* ------------------------------------------------------------------------------------------ */

static int cmd_probe(int argc, char **argv)
{
    const char *usage = "relayload probe HOST PORT [--size 100] [--timeout-ms 5000]";
    opts_t o = parse_opts(argc, argv, 2, usage);
    addr_t a = resolve(o.host, o.port);
    signal(SIGPIPE, SIG_IGN);
    unsigned char *payload = make_payload((size_t)o.size);
    unsigned char *scratch = xcalloc(1, (size_t)o.size);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)o.timeout_ms * 1000000u;
    conn_t c = {.state = ST_CONNECTING};
    c.fd = start_connect(&a);
    if (c.fd < 0 || ep < 0) {
        printf("ok=0 error=%s\n", strerrorname_np(errno));
        return 1;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET};
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline) {
            printf("ok=0 error=ETIMEDOUT\n");
            return 1;
        }
        struct epoll_event got;
        int k = epoll_wait(ep, &got, 1, (int)((deadline - now) / 1000000u) + 1);
        if (k <= 0)
            continue;
        int err = sock_error(c.fd);
        if (err) {
            printf("ok=0 error=%s\n", strerrorname_np(err));
            return 1;
        }
        int r = exchange(&c, payload, (size_t)o.size, scratch);
        if (r == 1) {
            printf("ok=1 us=%.1f\n", (double)(now_ns() - t0) / 1e3);
            close(c.fd);
            return 0;
        }
        if (r < 0) {
            printf("ok=0 error=%s\n", r == -2 ? "mismatch" : "closed");
            return 1;
        }
    }
}

/* UDP readiness check for Tools/bench/udp, whose backend is `sockperf server`. sockperf answers
 * only datagrams that carry its header: an 8-byte sequence number, 2 bytes of flags and a 4-byte
 * length, all big-endian. Flags 3 (client | pong request) ask for a reply; the reply carries the
 * same sequence number. Anything else is dropped silently, so a generic payload would never be
 * answered. */
static int cmd_udp_probe(int argc, char **argv)
{
    const char *usage = "relayload udp-probe HOST PORT [--timeout-ms 5000]";
    opts_t o = parse_opts(argc, argv, 2, usage);
    addr_t a = resolve(o.host, o.port);
    int fd = socket(a.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a.ss, a.len) != 0) {
        printf("ok=0 error=%s\n", strerrorname_np(errno));
        return 1;
    }
    uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)o.timeout_ms * 1000000u;
    uint64_t seq = (uint32_t)(t0 ^ (uint64_t)getpid()); /* to tell our reply from a stray one */
    unsigned char msg[14] = {0};
    for (int i = 0; i < 8; i++)
        msg[i] = (unsigned char)(seq >> (56 - 8 * i));
    msg[9] = 3;
    msg[13] = sizeof msg;
    /* Resend every 200 ms: a datagram sent before the other side was bound is simply lost. */
    uint64_t next_send = t0;
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline) {
            printf("ok=0 error=ETIMEDOUT\n");
            return 1;
        }
        if (now >= next_send) {
            if (send(fd, msg, sizeof msg, 0) < 0 && errno != ECONNREFUSED) {
                printf("ok=0 error=%s\n", strerrorname_np(errno));
                return 1;
            }
            next_send = now + 200000000u;
        }
        uint64_t until = next_send < deadline ? next_send : deadline;
        uint64_t wait_us = (until - now) / 1000u + 1;
        struct timeval tv = {.tv_sec = (time_t)(wait_us / 1000000u),
                             .tv_usec = (suseconds_t)(wait_us % 1000000u)};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        unsigned char reply[2048];
        ssize_t n = recv(fd, reply, sizeof reply, 0);
        if (n < 0) {
            /* ECONNREFUSED: an ICMP port unreachable, nobody listens (yet); try again. */
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNREFUSED)
                continue;
            printf("ok=0 error=%s\n", strerrorname_np(errno));
            return 1;
        }
        if (n >= (ssize_t)sizeof msg && memcmp(reply, msg, 8) == 0) {
            printf("ok=1 us=%.1f\n", (double)(now_ns() - t0) / 1e3);
            close(fd);
            return 0;
        }
    }
}

/* A port is free if 127.0.0.1:port can be bound without SO_REUSEADDR, for TCP and for UDP alike.
 * Ports are drawn from outside the ephemeral range so that client sockets never take them
 * between the check and the server's bind. */
static int cmd_freeport(int argc, char **argv)
{
    opts_t o = parse_opts(argc, argv, 0, "relayload freeport [--count 1]");
    long want = o.count > 0 ? o.count : 1;
    long lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &lo, &hi) != 2) {
            lo = 32768;
            hi = 60999;
        }
        fclose(f);
    }
    /* The larger span outside [lo, hi], not below 10000. */
    long a1 = 10000, b1 = lo - 1, a2 = hi + 1, b2 = 65535;
    long from = a1, to = b1;
    if (b2 - a2 > b1 - a1) {
        from = a2;
        to = b2;
    }
    if (to - from < 100) {
        from = 10000;
        to = 65535;
    }
    srandom((unsigned)(now_ns() ^ (uint64_t)getpid()));
    long *got = xcalloc((size_t)want, sizeof *got);
    long ngot = 0;
    for (int tries = 0; ngot < want && tries < 10000; tries++) {
        long p = from + random() % (to - from + 1);
        bool dup = false;
        for (long j = 0; j < ngot; j++)
            dup |= got[j] == p;
        if (dup)
            continue;
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)p)};
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool free_both = true;
        for (int k = 0; k < 2 && free_both; k++) {
            int fd = socket(AF_INET, (k ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
            if (fd < 0)
                die("socket: %s", strerror(errno));
            free_both = bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
            close(fd);
        }
        if (free_both)
            got[ngot++] = p;
    }
    if (ngot < want)
        die("could not find %ld free ports", want);
    for (long j = 0; j < ngot; j++)
        printf("%s%ld", j ? " " : "", got[j]);
    printf("\n");
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    const char *usage =
        "usage: relayload SUBCOMMAND ...\n"
        "  echo-server PORT [--host 127.0.0.1] [--threads 2]\n"
        "  connrate HOST PORT [--threads 2] [--concurrency 64] [--seconds 5] [--size 100]\n"
        "  rr HOST PORT [--threads 2] [--connections 32] [--seconds 5] [--size 100]\n"
        "  hold HOST PORT --count N [--seconds S] [--parallel 128]\n"
        "  ttfb HOST PORT [--rate 20] [--seconds 5 | --count N] [--size 100] [--samples FILE]\n"
        "  probe HOST PORT [--size 100] [--timeout-ms 5000]\n"
        "  udp-probe HOST PORT [--timeout-ms 5000]\n"
        "  freeport [--count 1]\n"
        "Targets must be loopback addresses; --allow-private also accepts 10/8, 172.16/12,\n"
        "192.168/16 and fc00::/7 (a benchmark's own network namespace).\n";
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    argc -= 2;
    argv += 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(cmd, "echo-server"))
        return cmd_echo_server(argc, argv);
    if (!strcmp(cmd, "connrate"))
        return run_clients(argc, argv, false);
    if (!strcmp(cmd, "rr"))
        return run_clients(argc, argv, true);
    if (!strcmp(cmd, "hold"))
        return cmd_hold(argc, argv);
    if (!strcmp(cmd, "ttfb"))
        return cmd_ttfb(argc, argv);
    if (!strcmp(cmd, "probe"))
        return cmd_probe(argc, argv);
    if (!strcmp(cmd, "udp-probe"))
        return cmd_udp_probe(argc, argv);
    if (!strcmp(cmd, "freeport"))
        return cmd_freeport(argc, argv);
    fputs(usage, stderr);
    return 2;
}
