"""Rootful podman for the container test (tests/integration/test_container.py).

    why = unusable()                 # None, or why podman cannot be used here (a skip reason)
    base, built = base_image()       # the local Debian bookworm minbase image, made when missing
    podman("images")                 # CompletedProcess; every call uses containers.conf beside this

This machine's podman needs settings the defaults lack (containers.conf beside this file:
ulimits within what root may set, runc and cgroupfs for the v1/v2 hybrid cgroups, a file
events log); CONTAINERS_CONF points every call at it, and nothing under /etc changes.

The base is `mmdebstrap --variant=minbase bookworm` from the Debian mirror this machine's apt
uses, imported as BASE_IMAGE. It is kept in podman's image store and made again only when it
is missing or older than BASE_MAX_AGE_DAYS (security updates), so a machine builds it once.
"""
import datetime
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CONTAINERS_CONF = os.path.join(HERE, "containers.conf")
BASE_IMAGE = "localhost/pts-base:bookworm-minbase"
# A base older than this is made again (its packages have had security updates since).
BASE_MAX_AGE_DAYS = 14
# mmdebstrap or an image build that takes longer than this has failed.
BUILD_TIMEOUT_S = 900
# The suite the base is made of (the Containerfile's default, debian:bookworm-slim).
SUITE = "bookworm"
# What a minbase needs no copy of (as debian:*-slim): manuals, docs, translations.
DPKG_EXCLUDES = ("path-exclude=/usr/share/man/*", "path-exclude=/usr/share/doc/*",
                 "path-include=/usr/share/doc/*/copyright", "path-exclude=/usr/share/locale/*",
                 "path-exclude=/usr/share/info/*")
FALLBACK_MIRROR = "http://deb.debian.org/debian"


def env():
    e = dict(os.environ)
    e["CONTAINERS_CONF"] = CONTAINERS_CONF
    return e


def podman(*args, timeout=120, check=False, capture=True):
    """One podman command (CompletedProcess with text output)."""
    return subprocess.run(["podman"] + list(args), env=env(), timeout=timeout, check=check,
                          text=True, capture_output=capture)


def unusable():
    """None when rootful podman and mmdebstrap work here, else the reason (a TAP skip)."""
    if os.geteuid() != 0:
        return "the container test needs root (rootful podman)"
    for tool in ("podman", "mmdebstrap"):
        if shutil.which(tool) is None:
            return "%s is not installed (./bootstrap check installs podman, runc, mmdebstrap)" % tool
    try:
        r = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "podman info failed: %s" % e
    if r.returncode != 0:
        return "podman info failed: %s" % (r.stderr.strip()[-300:] or r.returncode)
    return None


def apt_sources():
    """The machine's Debian sources for SUITE as one-line entries ("deb URI SUITE COMPS"),
    from /etc/apt/sources.list and sources.list.d (one-line and deb822 formats)."""
    out = []
    files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")) + \
        sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
    for path in files:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        if path.endswith(".sources"):
            for stanza in re.split(r"\n\s*\n", text):
                fields = {}
                for line in stanza.splitlines():
                    m = re.match(r"([A-Za-z-]+):\s*(.*)", line)
                    if m and not line.startswith("#"):
                        fields[m.group(1).lower()] = m.group(2).split()
                if "deb" not in fields.get("types", []) or \
                        fields.get("enabled", ["yes"])[0].lower() == "no":
                    continue
                for uri in fields.get("uris", []):
                    for suite in fields.get("suites", []):
                        out.append((uri, suite, fields.get("components", ["main"])))
        else:
            for line in text.splitlines():
                m = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)", line)
                if m:
                    out.append((m.group(1), m.group(2), m.group(3).split()))
    lines = []
    for uri, suite, comps in out:
        if suite == SUITE or suite.startswith(SUITE + "-") or suite.startswith(SUITE + "/"):
            line = "deb %s %s %s" % (uri, suite, " ".join(comps))
            if line not in lines:
                lines.append(line)
    return lines or ["deb %s %s main" % (FALLBACK_MIRROR, SUITE)]


def image_created(ref):
    """When the image was made (aware datetime), or None when it is not there."""
    r = podman("image", "inspect", "--format", "{{json .Created}}", ref)
    if r.returncode != 0:
        return None
    stamp = json.loads(r.stdout.strip())
    # "2026-12-05T03:15:04.123456789Z" or with an offset: seconds are enough.
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)", stamp)
    if not m:
        return None
    tz = "+00:00" if m.group(2) == "Z" else m.group(2)
    return datetime.datetime.fromisoformat(m.group(1) + tz)


def base_image(log=None):
    """(BASE_IMAGE, made_now): the cached base, or a new one when missing or too old."""
    made = image_created(BASE_IMAGE)
    now = datetime.datetime.now(datetime.timezone.utc)
    if made is not None and now - made < datetime.timedelta(days=BASE_MAX_AGE_DAYS):
        return BASE_IMAGE, False
    with tempfile.TemporaryDirectory(prefix="pts-base-") as tmp:
        tar = os.path.join(tmp, "base.tar")
        cmd = ["mmdebstrap", "--quiet", "--variant=minbase",
               "--aptopt=Acquire::Check-Valid-Until \"false\"",
               # merged /usr without the usrmerge package (and the perl it pulls in)
               "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr"]
        cmd += ["--dpkgopt=" + o for o in DPKG_EXCLUDES]
        cmd += [SUITE, tar] + apt_sources()
        subprocess.run(cmd, check=True, timeout=BUILD_TIMEOUT_S, stdout=log or subprocess.DEVNULL,
                       stderr=subprocess.STDOUT if log else None)
        podman("import", "--change", "CMD [\"/bin/bash\"]", tar, BASE_IMAGE,
               timeout=BUILD_TIMEOUT_S, check=True)
    return BASE_IMAGE, True


def build_image(top, tag, base, log=None):
    """Build contrib/container/Containerfile from the source tree top as tag, on base.
    Docker format keeps the HEALTHCHECK. Raises CalledProcessError on failure.

    The build stage is tagged too (tag + "-build"), and the images this tag named before are
    removed once the new ones are built (unless a container still uses them): the store
    keeps one build of this tag, and the layers the next build starts from (the -dev
    packages). Images of other tags (other source trees' runs) are left alone."""
    common = ["podman", "build", "--network", "host", "--format", "docker",
              "--build-arg", "BASE=" + base, "--build-arg", "APT_CHECK_VALID_UNTIL=false",
              "-f", os.path.join(top, "contrib", "container", "Containerfile")]
    out = dict(env=env(), check=True, timeout=BUILD_TIMEOUT_S, stdout=log or subprocess.DEVNULL,
               stderr=subprocess.STDOUT if log else None)
    before = {t: image_id(t) for t in (tag, tag + "-build")}
    subprocess.run(common + ["--target", "build", "-t", tag + "-build", top], **out)
    subprocess.run(common + ["-t", tag, top], **out)
    for t, old in before.items():
        if old is not None and old != image_id(t):
            podman("rmi", old, timeout=BUILD_TIMEOUT_S)  # refused while a container uses it


def image_id(ref):
    """The image's id, or None when there is none of that name."""
    r = podman("image", "inspect", "--format", "{{.Id}}", ref)
    return r.stdout.strip() if r.returncode == 0 else None


def tree_tag(name, top):
    """name:check-HASH, one tag per source tree: runs from two checkouts on one machine
    never run each other's image."""
    digest = hashlib.sha256(os.path.realpath(top).encode()).hexdigest()[:12]
    return "%s:check-%s" % (name, digest)


def image_size(ref):
    """The image's size in bytes as podman counts it (its layers, uncompressed)."""
    r = podman("image", "inspect", "--format", "{{.Size}}", ref, check=True)
    return int(r.stdout.strip())


def container_pids(name):
    """Host pids of every process in the container's pid namespace."""
    r = podman("inspect", "--format", "{{.State.Pid}}", name, check=True)
    init = int(r.stdout.strip())
    ns = os.readlink("/proc/%d/ns/pid" % init)
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/ns/pid" % d) == ns:
                pids.append(int(d))
        except OSError:
            pass  # ended meanwhile
    return pids


def proc_status(pid):
    """{"Name": ..., "Uid": [real, effective, saved, fs], ...} of a host pid (None if gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    out = {}
    for line in lines:
        k, _, v = line.partition(":")
        out[k] = v.split() if k in ("Uid", "Gid", "Groups") else v.strip()
    return out
