#ifndef CRELAYIO_H
#define CRELAYIO_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

/// One epoll event, unpacked (the kernel's struct is packed on x86-64, which Swift imports poorly).
typedef struct {
    uint32_t events;
    uint64_t data;
} crelay_epoll_event;

static const uint32_t CRELAY_EPOLLIN = 0x001;
static const uint32_t CRELAY_EPOLLPRI = 0x002;
static const uint32_t CRELAY_EPOLLOUT = 0x004;
static const uint32_t CRELAY_EPOLLERR = 0x008;
static const uint32_t CRELAY_EPOLLHUP = 0x010;
static const uint32_t CRELAY_EPOLLRDHUP = 0x2000;
static const uint32_t CRELAY_EPOLLET = 1u << 31;

static const int CRELAY_EPOLL_CTL_ADD = 1;
static const int CRELAY_EPOLL_CTL_DEL = 2;
static const int CRELAY_EPOLL_CTL_MOD = 3;

int crelay_epoll_create(void);
int crelay_epoll_ctl(int epfd, int op, int fd, uint32_t events, uint64_t data);
int crelay_epoll_wait(int epfd, crelay_epoll_event *events, int maxevents, int timeout_ms);

int crelay_eventfd(void);
int crelay_eventfd_signal(int fd);
int crelay_eventfd_drain(int fd);

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC; counted against the descriptor budget (EMFILE over it).
int crelay_accept(int fd, struct sockaddr *addr, socklen_t *len);
/// socket() with SOCK_NONBLOCK | SOCK_CLOEXEC; counted against the descriptor budget (EMFILE over it).
int crelay_socket(int domain, int type, int protocol);
/// close() of a descriptor that crelay_socket, crelay_accept or crelay_pipe opened: gives it back to the budget.
int crelay_close(int fd);
/// How many counted descriptors may be open at once (LONG_MAX, the default: no budget).
void crelay_descriptor_budget_set(long budget);
long crelay_descriptor_budget(void);
/// Counted descriptors open now.
long crelay_descriptors_counted(void);
int crelay_set_nonblocking(int fd);

ssize_t crelay_splice(int fd_in, int fd_out, size_t len, int more);
/// pipe2() with O_NONBLOCK | O_CLOEXEC and the given capacity; both ends counted against the descriptor budget.
int crelay_pipe(int fds[2], int size);

/// The kernel's `struct mmsghdr`, which <sys/socket.h> declares only under _GNU_SOURCE (the Glibc module
/// is built without it). shim.c checks that the layouts match. Callers keep an array of these, with their
/// iovecs and address storage, for the life of a batch, so a call rebuilds nothing.
typedef struct {
    struct msghdr msg_hdr;
    unsigned int msg_len;
} crelay_mmsghdr;

/// recvmmsg(MSG_DONTWAIT) into `count` prepared headers: returns how many datagrams were received
/// (each header's msg_len, msg_namelen and msg_flags filled in), or -1 and errno.
int crelay_recvmmsg(int fd, crelay_mmsghdr *msgs, unsigned count);
/// sendmmsg(MSG_DONTWAIT | MSG_NOSIGNAL) of `count` prepared headers: returns how many datagrams the
/// kernel took (from the first), or -1 and errno when it took none.
int crelay_sendmmsg(int fd, crelay_mmsghdr *msgs, unsigned count);
/// One sendmsg(MSG_DONTWAIT | MSG_NOSIGNAL) of `count` iovecs on a UDP socket with the UDP_SEGMENT
/// control message: the kernel cuts the bytes into datagrams of `segment` bytes (the last may be
/// shorter), all to `name` (NULL: the connected peer). Every iovec but the last must be exactly
/// `segment` bytes, so each is one datagram. Returns the bytes sent (all of them) or -1 with errno
/// (EINVAL or EIO where the path cannot segment, ENOPROTOOPT on kernels without it).
ssize_t crelay_send_segmented(int fd, const void *name, socklen_t name_length, struct iovec *vectors,
                              unsigned count, uint16_t segment);

/// The calling thread's errno (Swift reads it through Glibc too; this avoids the macro).
int crelay_errno(void);

int crelay_set_tcp_keepalive(int fd, int idle_s, int interval_s, int count);

/// Names the calling thread (at most 15 bytes), as shown by top -H.
void crelay_set_thread_name(const char *name);

/// Installs one process-wide handler for each signal in `signals`: it counts the signal and writes to an
/// eventfd, which is returned (blocking reads). Call once, early.
int crelay_signals_install(const int *signals, int count);
/// Returns how many times `signo` arrived since the last call, and resets the count.
int crelay_signal_take(int signo);

#endif
