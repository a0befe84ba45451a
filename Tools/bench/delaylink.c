/*
 * delaylink: a point-to-point link with a fixed one-way delay, between the current network
 * namespace and a named one, for kernels without the netem qdisc (Tools/bench/pool).
 *
 *   delaylink --netns NAME --outer IFNAME --inner IFNAME [--delay-ms 10] [--queue 1000]
 *             [--loss PERCENT] [--seed N] [--rt]
 *
 * Creates two TUN interfaces (IFF_TUN, raw IP packets): OUTER in the namespace the program starts
 * in, INNER in the namespace NAME (as `ip netns add NAME` makes it, under /run/netns). Every packet
 * the kernel sends out of one is read by this program, held for --delay-ms and written into the
 * other, in order. Both directions are delayed, so a round trip takes twice the delay, the TCP
 * handshake included: it is the same as `tc qdisc add dev X root netem delay D` on both ends of a
 * veth pair.
 *
 * Each direction queues at most --queue packets (like netem's `limit`, default 1000); more are
 * dropped. The interfaces keep the default MTU of 1500 (at most 2048 fits).
 *
 * --loss drops each packet, in each direction independently, with that probability (percent, 0 to
 * 100, like `netem loss P%`): a uniform, memoryless loss from a xorshift64* generator seeded with
 * --seed (default 1), so runs with the same traffic drop the same packets. Lost packets are counted
 * (dropped_loss) and never queued.
 *
 * The interfaces exist as long as the program runs; give them addresses and bring them up with
 * `ip` once it prints `ready=1`. On SIGTERM or SIGINT it prints what it forwarded and exits, and
 * the interfaces disappear with it.
 *
 * Timing: one thread, ppoll() with a nanosecond timeout on the head of each queue. With --rt the
 * thread runs under SCHED_FIFO (priority 10), so a busy machine delays it less; the output reports
 * how late packets were written (late_p99_us, late_max_us) against their due time.
 *
 * Build: gcc -O2 -Wall -Wextra -o delaylink delaylink.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

/* Room for one packet. A TUN interface without IFF_VNET_HDR hands over packets of at most its MTU
 * (1500 unless changed); keep the MTU at or below this. */
#define PKT_MAX 2048

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("delaylink: ", stderr);
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

static int open_tun(const char *name)
{
    if (strlen(name) >= IFNAMSIZ)
        die("interface name '%s' is longer than %d characters", name, IFNAMSIZ - 1);
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        die("open /dev/net/tun: %s (is the tun driver there? are we root?)", strerror(errno));
    struct ifreq ifr = {0};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        die("creating TUN interface %s: %s", name, strerror(errno));
    return fd;
}

/* One direction: a FIFO of packets with their due times. A constant delay keeps them in order. */
typedef struct {
    const char *name;
    int in, out; /* read from in, write to out after the delay */
    unsigned char *buf; /* cap slots of PKT_MAX bytes */
    uint32_t *len;
    uint64_t *due;
    size_t cap, head, count;
    uint64_t forwarded, dropped_full, dropped_write, dropped_loss;
    uint64_t rng; /* xorshift64* state for --loss */
} dir_t;

/* Drop threshold: a packet is lost when the next 64-bit draw is below it (0 = no loss). */
static uint64_t g_loss_threshold;

static bool lose(dir_t *d)
{
    if (!g_loss_threshold)
        return false;
    d->rng ^= d->rng >> 12;
    d->rng ^= d->rng << 25;
    d->rng ^= d->rng >> 27;
    return d->rng * 0x2545F4914F6CDD1DULL < g_loss_threshold;
}

/* Lateness of writes against the due time, in microseconds: exact counts up to 100 ms. */
#define LATE_SLOTS 100001
static uint64_t late_hist[LATE_SLOTS];
static uint64_t late_total, late_max_us;

static void note_late(uint64_t late_ns)
{
    uint64_t us = late_ns / 1000;
    late_hist[us < LATE_SLOTS - 1 ? us : LATE_SLOTS - 1]++;
    late_total++;
    if (us > late_max_us)
        late_max_us = us;
}

static uint64_t late_pct(double p)
{
    if (!late_total)
        return 0;
    uint64_t rank = (uint64_t)(p * (double)late_total + 0.999999), seen = 0;
    for (uint64_t i = 0; i < LATE_SLOTS; i++) {
        seen += late_hist[i];
        if (seen >= rank)
            return i;
    }
    return late_max_us;
}

static void dir_read(dir_t *d, uint64_t delay)
{
    for (;;) {
        if (d->count == d->cap) {
            /* Queue full: read and drop, as a full netem queue would (tail drop). */
            unsigned char scratch[PKT_MAX];
            ssize_t n = read(d->in, scratch, sizeof scratch);
            if (n <= 0)
                return;
            d->dropped_full++;
            continue;
        }
        size_t slot = (d->head + d->count) % d->cap;
        ssize_t n = read(d->in, d->buf + slot * PKT_MAX, PKT_MAX);
        if (n == PKT_MAX)
            die("a packet of %d bytes or more on %s: lower the interface's MTU", PKT_MAX, d->name);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                die("read from %s: %s", d->name, strerror(errno));
            return;
        }
        if (n == 0)
            return;
        if (lose(d)) {
            d->dropped_loss++;
            continue;
        }
        d->len[slot] = (uint32_t)n;
        d->due[slot] = now_ns() + delay;
        d->count++;
    }
}

static void dir_flush(dir_t *d)
{
    uint64_t now = now_ns();
    while (d->count > 0 && d->due[d->head] <= now) {
        size_t slot = d->head;
        ssize_t n = write(d->out, d->buf + slot * PKT_MAX, d->len[slot]);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == (ssize_t)d->len[slot]) {
            d->forwarded++;
            note_late(now - d->due[slot]);
        } else {
            d->dropped_write++;
        }
        d->head = (d->head + 1) % d->cap;
        d->count--;
        now = now_ns();
    }
}

static volatile sig_atomic_t g_stop;
static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

int main(int argc, char **argv)
{
    const char *usage = "usage: delaylink --netns NAME --outer IFNAME --inner IFNAME "
                        "[--delay-ms 10] [--queue 1000] [--loss PERCENT] [--seed N] [--rt]";
    const char *netns = NULL, *outer = NULL, *inner = NULL;
    double delay_ms = 10;
    long queue = 1000; /* netem's default limit */
    double loss = 0;
    unsigned long long seed = 1;
    bool rt = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--rt")) {
            rt = true;
            continue;
        }
        if (i + 1 >= argc)
            die("%s needs a value\n%s", a, usage);
        const char *v = argv[++i];
        char *end;
        if (!strcmp(a, "--netns"))
            netns = v;
        else if (!strcmp(a, "--outer"))
            outer = v;
        else if (!strcmp(a, "--inner"))
            inner = v;
        else if (!strcmp(a, "--delay-ms")) {
            delay_ms = strtod(v, &end);
            if (*end || end == v || delay_ms < 0 || delay_ms > 10000)
                die("--delay-ms: expected a number from 0 to 10000, got '%s'", v);
        } else if (!strcmp(a, "--queue")) {
            queue = strtol(v, &end, 10);
            if (*end || end == v || queue < 1 || queue > 65536)
                die("--queue: expected an integer from 1 to 65536, got '%s'", v);
        } else if (!strcmp(a, "--loss")) {
            loss = strtod(v, &end);
            if (*end || end == v || loss < 0 || loss > 100)
                die("--loss: expected a percentage from 0 to 100, got '%s'", v);
        } else if (!strcmp(a, "--seed")) {
            seed = strtoull(v, &end, 10);
            if (*end || end == v || seed == 0)
                die("--seed: expected a positive integer, got '%s'", v);
        } else
            die("unknown option '%s'\n%s", a, usage);
    }
    if (!netns || !outer || !inner)
        die("--netns, --outer and --inner are required\n%s", usage);
    if (strchr(netns, '/'))
        die("--netns takes a name as `ip netns` shows it, not a path");

    int fd_outer = open_tun(outer);
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s", netns);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0)
        die("open %s: %s (create it with `ip netns add %s`)", path, strerror(errno), netns);
    if (setns(nsfd, CLONE_NEWNET) < 0)
        die("setns %s: %s", path, strerror(errno));
    close(nsfd);
    int fd_inner = open_tun(inner);

    struct sigaction sa = {0};
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* Wake-ups at the due time, not up to 50 us later. */
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    const char *rt_note = "off";
    if (rt) {
        struct sched_param sp = {.sched_priority = 10};
        rt_note = sched_setscheduler(0, SCHED_FIFO, &sp) == 0 ? "SCHED_FIFO" : "refused";
        if (strcmp(rt_note, "refused") == 0)
            fprintf(stderr, "delaylink: SCHED_FIFO refused (%s); running at normal priority\n",
                    strerror(errno));
    }

    uint64_t delay = (uint64_t)(delay_ms * 1e6);
    dir_t dirs[2] = {
        {.name = outer, .in = fd_outer, .out = fd_inner},
        {.name = inner, .in = fd_inner, .out = fd_outer},
    };
    g_loss_threshold = loss >= 100 ? UINT64_MAX : (uint64_t)(loss / 100.0 * 18446744073709551615.0);
    for (int k = 0; k < 2; k++) {
        dirs[k].rng = seed * (k + 1) * 0x9E3779B97F4A7C15ULL | 1;
        dirs[k].cap = (size_t)queue;
        dirs[k].buf = malloc((size_t)queue * PKT_MAX);
        dirs[k].len = calloc((size_t)queue, sizeof *dirs[k].len);
        dirs[k].due = calloc((size_t)queue, sizeof *dirs[k].due);
        if (!dirs[k].buf || !dirs[k].len || !dirs[k].due)
            die("out of memory for a queue of %ld packets", queue);
    }
    printf("ready=1 outer=%s inner=%s netns=%s delay_ms=%g queue=%ld loss_percent=%g scheduling=%s\n",
           outer, inner, netns, delay_ms, queue, loss, rt_note);
    fflush(stdout);

    sigset_t none;
    sigemptyset(&none);
    while (!g_stop) {
        struct pollfd pfds[2] = {{.fd = fd_outer, .events = POLLIN}, {.fd = fd_inner, .events = POLLIN}};
        uint64_t wake = UINT64_MAX;
        for (int k = 0; k < 2; k++)
            if (dirs[k].count > 0 && dirs[k].due[dirs[k].head] < wake)
                wake = dirs[k].due[dirs[k].head];
        struct timespec ts, *tsp = NULL;
        if (wake != UINT64_MAX) {
            uint64_t now = now_ns(), left = wake > now ? wake - now : 0;
            ts.tv_sec = (time_t)(left / 1000000000u);
            ts.tv_nsec = (long)(left % 1000000000u);
            tsp = &ts;
        }
        int n = ppoll(pfds, 2, tsp, &none);
        if (n < 0 && errno != EINTR)
            die("ppoll: %s", strerror(errno));
        if (n > 0) {
            if (pfds[0].revents & POLLIN)
                dir_read(&dirs[0], delay);
            if (pfds[1].revents & POLLIN)
                dir_read(&dirs[1], delay);
            if ((pfds[0].revents | pfds[1].revents) & (POLLERR | POLLHUP | POLLNVAL))
                die("a TUN interface went away");
        }
        dir_flush(&dirs[0]);
        dir_flush(&dirs[1]);
    }
    printf("forwarded_out_in=%" PRIu64 " forwarded_in_out=%" PRIu64 " dropped_full=%" PRIu64
           " dropped_write=%" PRIu64 " dropped_loss=%" PRIu64 " late_p50_us=%" PRIu64
           " late_p99_us=%" PRIu64 " late_max_us=%" PRIu64 "\n",
           dirs[0].forwarded, dirs[1].forwarded, dirs[0].dropped_full + dirs[1].dropped_full,
           dirs[0].dropped_write + dirs[1].dropped_write, dirs[0].dropped_loss + dirs[1].dropped_loss,
           late_pct(0.50), late_pct(0.99), late_max_us);
    return 0;
}
