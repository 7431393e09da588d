"""Processes as the kernel sees them (/proc), for the least-privilege tests.

    ids_of(pid)            -> (uids, gids, groups): lists of ints from /proc/PID/status
    children_of(pid)       -> the pids whose parent is pid
    procs_of_data(data)    -> {pid: program} of pts-cgi and pts-worker serving that data folder
    user_name(uid)         -> the user's name, or the number as text
"""
import os
import pwd


def ids_of(pid):
    """(uids, gids, groups) of a process from /proc: lists of ints."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid", "Groups"):
                out[k] = [int(x) for x in v.split()]
    return out["Uid"], out["Gid"], out["Groups"]


def children_of(pid):
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            kids.append(int(name))
    return kids


def procs_of_data(data):
    """pts-cgi and pts-worker processes (children included) whose PTS_DATA_DIR is data."""
    pids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                argv = f.read().split(b"\0")
            with open("/proc/%s/environ" % name, "rb") as f:
                env = f.read()
        except OSError:
            continue
        if b"PTS_DATA_DIR=" + data.encode() + b"\0" not in env:
            continue
        prog = os.path.basename(argv[0].decode(errors="replace"))
        if prog in ("pts-cgi", "pts-worker"):
            pids[int(name)] = prog
    return pids


def user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
