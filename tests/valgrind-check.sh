#!/bin/sh
# valgrind-check.sh - run every C unit test program, pts-cgi in CGI mode, and pts-worker
# (a sync, and the daemon running webhook jobs; tests/valgrind_worker.py) under valgrind:
# memory errors and definite or indirect leaks fail.
#
#   tests/valgrind-check.sh BUILD_DIR        (or: make valgrind-check, in BUILD_DIR)
#
# BUILD_DIR must be configured WITHOUT --enable-sanitizers (ASan and valgrind do not mix)
# and have the tests built (make check TESTS=). Each program's valgrind output lands in
# BUILD_DIR/valgrind/<name>.log. Prints one line per program and ends with
# "N passed, N failed"; exits 1 when anything failed.
set -u

BUILD=${1:?usage: valgrind-check.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null 2>&1 || { echo "valgrind-check: valgrind not found (apt-get install valgrind)" >&2; exit 2; }
if grep -q '^SAN_CFLAGS = .*fsanitize' "$BUILD/Makefile" 2>/dev/null; then
	echo "valgrind-check: $BUILD is a sanitizer build; configure one without --enable-sanitizers" >&2
	exit 2
fi
LOGS=$BUILD/valgrind
mkdir -p "$LOGS"
# --errors-for-leak-kinds: "still reachable" (libcurl's and SQLite's process-wide caches) is
# not a leak; definite and indirect losses are.
# --vgdb=no: no gdbserver FIFOs in /tmp, which a program that drops root (run as root, both
# become plex-trakt-sync) could not remove at exit.
VG="valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
 --show-leak-kinds=definite,indirect --error-exitcode=1 --track-origins=yes \
 --child-silent-after-fork=yes --vgdb=no"
pass=0
fail=0

for exe in "$BUILD"/tests/unit/test_* "$BUILD"/tests/client/test_*; do
	case $exe in *.o|*.sh|*.log|*.trs) continue ;; esac
	[ -x "$exe" ] && [ -f "$exe" ] || continue
	name=$(basename "$exe")
	# The unit tests look for tests/fakes and data relative to the source tree.
	if (cd "$TOP" && $VG --log-file="$LOGS/$name.log" "$exe" >"$LOGS/$name.out" 2>&1); then
		if grep -q '^not ok' "$LOGS/$name.out"; then
			echo "FAIL $name: a test failed under valgrind (see $LOGS/$name.out)"
			fail=$((fail + 1))
		else
			echo "ok   $name"
			pass=$((pass + 1))
		fi
	else
		echo "FAIL $name: valgrind reported errors (see $LOGS/$name.log)"
		fail=$((fail + 1))
	fi
done

# pts-cgi as Apache runs it: one request per process, with a body, against a fresh database.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pts-vg.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT INT TERM
cgi() {
	# cgi NAME METHOD URI [BODY]
	name=$1
	shift
	printf '%s' "${3:-}" >"$TMP/body"
	if env -i PATH="$PATH" PTS_DATA_DIR="$TMP/var" GATEWAY_INTERFACE=CGI/1.1 \
	    REQUEST_METHOD="$1" REQUEST_URI="$2" QUERY_STRING="${2#*\?}" \
	    CONTENT_TYPE=application/json CONTENT_LENGTH="$(wc -c <"$TMP/body")" \
	    HTTP_X_REQUESTED_WITH=XMLHttpRequest HTTP_HOST=localhost \
	    $VG --log-file="$LOGS/cgi-$name.log" "$BUILD/cgi/pts-cgi" <"$TMP/body" >"$TMP/out" 2>&1; then
		echo "ok   pts-cgi $name"
		pass=$((pass + 1))
	else
		echo "FAIL pts-cgi $name: valgrind reported errors (see $LOGS/cgi-$name.log)"
		fail=$((fail + 1))
	fi
}
mkdir -p "$TMP/var"
cgi health GET /api/health
cgi settings-put PUT /api/settings '{"plex_url": "http://127.0.0.1:32400", "dry_run": true}'
cgi settings-bad PUT /api/settings '{"plex_url": 5, "nope": 1}'
cgi status GET /api/status
cgi sync POST /api/sync '{"dry_run": true}'
cgi progress GET /api/progress
cgi runs GET '/api/runs?limit=5'
cgi log GET '/api/log?after=0&limit=10&level=warn'
cgi webhook-url GET /api/webhooks/plex
cgi metrics GET /api/metrics
cgi notfound GET /api/nope

# pts-worker: a sync, and the daemon with its forked job children (their logs are judged too).
VGW=$(echo "$VG" | sed 's/--child-silent-after-fork=yes/--child-silent-after-fork=no/')
python3 "$TOP/tests/valgrind_worker.py" "$BUILD" "$LOGS" $VGW >"$TMP/worker" 2>&1
rc=$?
cat "$TMP/worker"
pass=$((pass + $(grep -c '^ok ' "$TMP/worker")))
fail=$((fail + $(grep -c '^FAIL ' "$TMP/worker")))
[ $rc -eq 0 ] || grep -q '^FAIL ' "$TMP/worker" || fail=$((fail + 1))

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
