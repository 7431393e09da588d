/*
 * server.h - running as a FastCGI responder: the accept loop, and the --socket listener with
 * its preforked children.
 *
 * Signals only set flags (and tell libfcgi to stop accepting); the loops look at them
 * between requests, so a request in flight is always answered.
 */
#ifndef PTS_CGI_SERVER_H
#define PTS_CGI_SERVER_H

#include <sys/types.h>

#include "privdrop.h"

/* Most children --children may ask for. */
#define SRV_MAX_CHILDREN 64
/* Pending connections the listening socket queues. */
#define SRV_BACKLOG 128
/* How long a stopping parent waits for its children before SIGKILL. */
#define SRV_STOP_WAIT_MS 5000
/* A child that dies sooner than this after its start delays its replacement by a second. */
#define SRV_RESPAWN_MIN_MS 1000

/* Answer requests on the listening socket fd until SIGTERM/SIGINT. 0 or -1. */
int srv_accept_loop(int fd);

/*
 * Open a unix socket at path (a stale socket file there is removed; a live one is an error)
 * as pd's user, with mode (by umask) and group ((gid_t)-1: the user's group), so the folder
 * must be one that user may create files in; then drop to that user (privdrop.h; a no-op
 * when no drop is due), prefork children that each run srv_accept_loop(), re-spawn any that
 * die, and on SIGTERM/SIGINT stop them, remove the socket and return 0. -1 on a setup error.
 */
int srv_prefork(const char *path, int children, mode_t mode, gid_t group,
    const struct pts_privdrop *pd);

#endif
