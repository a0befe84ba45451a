#define _GNU_SOURCE
#include "CRelayIO.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

int crelay_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int crelay_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}

int crelay_epoll_wait(int epfd, crelay_epoll_event *events, int maxevents, int timeout_ms) {
    struct epoll_event raw[256];
    if (maxevents > 256) maxevents = 256;
    int n = epoll_wait(epfd, raw, maxevents, timeout_ms);
    for (int i = 0; i < n; i++) {
        events[i].events = raw[i].events;
        events[i].data = raw[i].data.u64;
    }
    return n;
}

int crelay_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int crelay_eventfd_signal(int fd) {
    uint64_t one = 1;
    return (int)write(fd, &one, sizeof(one));
}

int crelay_eventfd_drain(int fd) {
    uint64_t value;
    return (int)read(fd, &value, sizeof(value));
}

/* Descriptors opened through crelay_socket, crelay_accept and crelay_pipe and not yet given to crelay_close,
 * and how many of them may be open at once (LONG_MAX: no budget). A call that would go over the budget fails
 * with EMFILE before asking the kernel, so the process never spends the last descriptors under its limit:
 * those are kept for the runtime (libdispatch opens /proc files and aborts when it cannot), for reading
 * configuration and key files, and for name lookups. */
static _Atomic long crelay_descriptors_open = 0;
static _Atomic long crelay_descriptors_budget = LONG_MAX;

static int crelay_descriptors_take(long count) {
    long before = atomic_fetch_add_explicit(&crelay_descriptors_open, count, memory_order_relaxed);
    if (before + count > atomic_load_explicit(&crelay_descriptors_budget, memory_order_relaxed)) {
        atomic_fetch_sub_explicit(&crelay_descriptors_open, count, memory_order_relaxed);
        errno = EMFILE;
        return 0;
    }
    return 1;
}

static void crelay_descriptors_give_back(long count) {
    int saved = errno;
    atomic_fetch_sub_explicit(&crelay_descriptors_open, count, memory_order_relaxed);
    errno = saved;
}

void crelay_descriptor_budget_set(long budget) {
    atomic_store_explicit(&crelay_descriptors_budget, budget, memory_order_relaxed);
}

long crelay_descriptor_budget(void) {
    return atomic_load_explicit(&crelay_descriptors_budget, memory_order_relaxed);
}

long crelay_descriptors_counted(void) {
    return atomic_load_explicit(&crelay_descriptors_open, memory_order_relaxed);
}

int crelay_close(int fd) {
    int result = close(fd);
    /* On Linux the descriptor is released even when close fails (EINTR, EIO). */
    crelay_descriptors_give_back(1);
    return result;
}

int crelay_accept(int fd, struct sockaddr *addr, socklen_t *len) {
    if (!crelay_descriptors_take(1)) return -1;
    int accepted = accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (accepted < 0) crelay_descriptors_give_back(1);
    return accepted;
}

int crelay_socket(int domain, int type, int protocol) {
    if (!crelay_descriptors_take(1)) return -1;
    int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) crelay_descriptors_give_back(1);
    return fd;
}

int crelay_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

ssize_t crelay_splice(int fd_in, int fd_out, size_t len, int more) {
    unsigned int flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | (more ? SPLICE_F_MORE : 0);
    return splice(fd_in, NULL, fd_out, NULL, len, flags);
}

int crelay_pipe(int fds[2], int size) {
    if (!crelay_descriptors_take(2)) return -1;
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        crelay_descriptors_give_back(2);
        return -1;
    }
    if (size > 0) (void)fcntl(fds[0], F_SETPIPE_SZ, size);
    return 0;
}

_Static_assert(sizeof(crelay_mmsghdr) == sizeof(struct mmsghdr), "crelay_mmsghdr must match struct mmsghdr");
_Static_assert(offsetof(crelay_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len),
               "crelay_mmsghdr must match struct mmsghdr");

int crelay_recvmmsg(int fd, crelay_mmsghdr *msgs, unsigned count) {
    return recvmmsg(fd, (struct mmsghdr *)msgs, count, MSG_DONTWAIT, NULL);
}

int crelay_sendmmsg(int fd, crelay_mmsghdr *msgs, unsigned count) {
    return sendmmsg(fd, (struct mmsghdr *)msgs, count, MSG_DONTWAIT | MSG_NOSIGNAL);
}

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SOL_UDP
#define SOL_UDP 17
#endif

ssize_t crelay_send_segmented(int fd, const void *name, socklen_t name_length, struct iovec *vectors,
                              unsigned count, uint16_t segment) {
    union {
        char bytes[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    struct msghdr message;
    memset(&message, 0, sizeof(message));
    message.msg_name = (void *)name;
    message.msg_namelen = name ? name_length : 0;
    message.msg_iov = vectors;
    message.msg_iovlen = count;
    message.msg_control = control.bytes;
    message.msg_controllen = sizeof(control.bytes);
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_UDP;
    header->cmsg_type = UDP_SEGMENT;
    header->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    memcpy(CMSG_DATA(header), &segment, sizeof(segment));
    return sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
}

int crelay_errno(void) { return errno; }

int crelay_set_tcp_keepalive(int fd, int idle_s, int interval_s, int count) {
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) != 0) return -1;
    if (idle_s > 0 && setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s)) != 0) return -1;
    if (interval_s > 0 && setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof(interval_s)) != 0) return -1;
    if (count > 0 && setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count)) != 0) return -1;
    return 0;
}

void crelay_set_thread_name(const char *name) { (void)pthread_setname_np(pthread_self(), name); }

static int crelay_signal_eventfd = -1;
static int crelay_signal_counts[65];

static void crelay_on_signal(int signo) {
    int saved = errno;
    if (signo > 0 && signo < 65) __atomic_fetch_add(&crelay_signal_counts[signo], 1, __ATOMIC_SEQ_CST);
    uint64_t one = 1;
    ssize_t ignored = write(crelay_signal_eventfd, &one, sizeof(one));
    (void)ignored;
    errno = saved;
}

int crelay_signals_install(const int *signals, int count) {
    if (crelay_signal_eventfd < 0) {
        crelay_signal_eventfd = eventfd(0, EFD_CLOEXEC);
        if (crelay_signal_eventfd < 0) return -1;
    }
    for (int i = 0; i < count; i++) {
        struct sigaction action;
        memset(&action, 0, sizeof(action));
        action.sa_handler = crelay_on_signal;
        action.sa_flags = SA_RESTART;
        sigemptyset(&action.sa_mask);
        if (sigaction(signals[i], &action, NULL) != 0) return -1;
    }
    return crelay_signal_eventfd;
}

int crelay_signal_take(int signo) {
    if (signo <= 0 || signo >= 65) return 0;
    return __atomic_exchange_n(&crelay_signal_counts[signo], 0, __ATOMIC_SEQ_CST);
}
