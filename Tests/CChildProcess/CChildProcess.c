// Calls the test support needs that glibc declares only under _GNU_SOURCE, which Swift does not import.
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>
#include "CChildProcess.h"

int cchild_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int cchild_spawn_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int cchild_thread_id(void) {
    return (int)gettid();
}
