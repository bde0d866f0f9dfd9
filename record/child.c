// SPDX-License-Identifier: BSD-2-Clause
/*
 * The recorded command, perf-record style: forked before anything is
 * loaded (so it inherits none of our descriptors), held on a pipe until the
 * probes are attached, then exec'd. Its whole life is in the capture.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "record.h"

int child__start(struct child *c, char **argv)
{
	int fds[2], err;
	char go;

	c->pid = 0;
	c->go_fd = -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		c->pid = 0;
		return err;
	}
	if (c->pid == 0) {
		close(fds[1]);
		/* EOF instead of the go byte: the recorder gave up */
		if (read(fds[0], &go, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: cannot run %s: %s\n", PROG, argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	c->go_fd = fds[1];
	return 0;
}

int child__release(struct child *c)
{
	char go = 'g';
	int err = 0;

	if (c->go_fd < 0)
		return -EINVAL;
	if (write(c->go_fd, &go, 1) != 1)
		err = -errno;
	close(c->go_fd);
	c->go_fd = -1;
	return err;
}

void child__abort(struct child *c)
{
	int status;

	if (c->go_fd >= 0) {
		close(c->go_fd);
		c->go_fd = -1;
	}
	if (c->pid > 0)
		child__reap(c, &status, 1);
}

int child__reap(struct child *c, int *status, int block)
{
	int ws;
	pid_t r;

	if (c->pid <= 0)
		return -ECHILD;
	do {
		r = waitpid(c->pid, &ws, block ? 0 : WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	c->pid = 0;
	if (WIFEXITED(ws))
		*status = WEXITSTATUS(ws);
	else if (WIFSIGNALED(ws))
		*status = 128 + WTERMSIG(ws);
	else
		*status = 1;
	return 1;
}
