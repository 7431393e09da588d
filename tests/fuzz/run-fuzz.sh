#!/bin/sh
# run-fuzz.sh - build the libFuzzer targets with clang and run each for a while.
#
#   tests/fuzz/run-fuzz.sh [-s SECONDS] [-o OUTDIR] [-b] [TARGET...]
#
# SECONDS per target (default $FUZZ_SECONDS, else 60); OUTDIR (default ./fuzz-out) holds the
# objects, the binaries, each target's growing corpus (seeded from tests/fuzz/corpus/<target>)
# and any crash, leak or timeout input under crashes/<target>/. -b builds only. Each run ends
# with one line "fuzz <target>: <execs> execs in <s> s, corpus <n>, <result>". Exit 1 when a
# target found something. Not part of `./bootstrap check`: run it by hand or via `make fuzz`.
#
# FUZZ_CC (default clang) must know -fsanitize=fuzzer (Debian: clang, libclang-rt-dev).
set -eu

TOP=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${FUZZ_SECONDS:-60}
OUT=./fuzz-out
BUILD_ONLY=0
ALL="fuzz_request fuzz_multipart fuzz_json_body fuzz_plex fuzz_trakt fuzz_guid fuzz_plexxml"

while getopts "s:o:b" opt; do
	case $opt in
	s) SECS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	b) BUILD_ONLY=1 ;;
	*) sed -n '2,12p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
TARGETS=${*:-$ALL}
case $SECS in *[!0-9]*|'') echo "run-fuzz: SECONDS must be a number" >&2; exit 2 ;; esac

CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null 2>&1 || { echo "run-fuzz: $CC not found (apt-get install clang)" >&2; exit 2; }
mkdir -p "$OUT/obj" "$OUT/bin"
OUT=$(cd "$OUT" && pwd)

PKG="json-c libcurl sqlite3"
CFLAGS="-g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -DPTS_VERSION=\"fuzz\" \
 -DPTS_STATIC_DIR=\"/nonexistent\" -Wall -Wextra -Wno-unused-parameter \
 -I$TOP/common -I$TOP/cgi -I$TOP/worker -I$TOP/worker/core -I$TOP/worker/upstream \
 -I$TOP/worker/sync -I$TOP/worker/jobs -I$TOP/tests/fuzz $(pkg-config --cflags $PKG)"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
LIBS="$(pkg-config --libs $PKG) -lcrypt -lm"

# The library sources the build itself compiles (the automake lists), less the programs'
# mains and pts-cgi's FastCGI transport: the parsers' neighbours link too.
SRCS=$(cd "$TOP" && cat Makefile.am cgi/sources.am worker/sources.am |
	grep -o -E '(common|cgi|worker)/([a-z]+/)?[A-Za-z0-9_]+\.c' | sort -u |
	grep -v -x -e 'worker/main\.c' -e 'cgi/main\.c' -e 'cgi/server\.c' -e 'cgi/io\.c')
OBJS=""
for src in $SRCS; do
	obj="$OUT/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
	if [ ! -f "$obj" ] || [ "$TOP/$src" -nt "$obj" ] || [ -n "$(find "$TOP/common" "$TOP/cgi" \
	    "$TOP/worker" -name '*.h' -newer "$obj" 2>/dev/null | head -1)" ]; then
		$CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "$TOP/$src" -o "$obj"
	fi
	OBJS="$OBJS $obj"
done
rm -f "$OUT/libpts-fuzz.a"
ar rcs "$OUT/libpts-fuzz.a" $OBJS
for t in $TARGETS; do
	[ -f "$TOP/tests/fuzz/$t.c" ] || { echo "run-fuzz: no target $t" >&2; exit 2; }
	$CC $CFLAGS $SAN -fsanitize=fuzzer "$TOP/tests/fuzz/$t.c" "$OUT/libpts-fuzz.a" $LIBS \
	    -o "$OUT/bin/$t"
done
[ "$BUILD_ONLY" = 1 ] && { echo "run-fuzz: built $TARGETS in $OUT/bin"; exit 0; }

found=0
for t in $TARGETS; do
	corpus="$OUT/corpus/$t"
	crashes="$OUT/crashes/$t"
	mkdir -p "$corpus" "$crashes"
	[ -d "$TOP/tests/fuzz/corpus/$t" ] && cp -n "$TOP/tests/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
	log="$OUT/$t.log"
	set +e
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$OUT/bin/$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
	    -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1
	rc=$?
	set -e
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
	n=$(ls "$corpus" | wc -l)
	if [ $rc -eq 0 ]; then
		res="clean"
	else
		res="FOUND something (exit $rc): see $log and $crashes"
		found=1
	fi
	echo "fuzz $t: ${execs:-?} execs in ${secs:-$SECS} s, corpus $n, $res"
done
exit $found
