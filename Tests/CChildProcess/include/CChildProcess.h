#ifndef CCHILDPROCESS_H
#define CCHILDPROCESS_H

#include <spawn.h>

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec from their creation.
int cchild_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor from `from` up.
int cchild_spawn_closefrom(posix_spawn_file_actions_t *actions, int from);

/// gettid(): the calling thread's kernel id, as /proc/self/task and gdb name it.
int cchild_thread_id(void);

#endif
