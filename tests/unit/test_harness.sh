#!/bin/sh
# test_harness.sh - `make check` runs every test there is, through automake's TAP driver:
# every test program is in TESTS, every shell test of tests/unit and tests/client too, each
# test_*.c has its program, .sh and C tests are read by tap-driver.sh (so a "not ok" fails
# the run), and the tests of tests/unit start no server (those live in tests/client).
# Prints TAP. Usage: tests/unit/test_harness.sh [BUILD_DIR]   (default: $PTS_BUILD_DIR, as
# make check sets it, else the current folder)
set -u

BUILD_DIR=${1:-${PTS_BUILD_DIR:-.}}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
# Folders of test sources, and what they may hold.
TEST_DIRS="unit client"
if [ ! -f "$BUILD_DIR/Makefile" ]; then
	echo "Bail out! $BUILD_DIR/Makefile not found (configure first, or pass the build folder)"
	exit 1
fi
N=0
FAILED=0

# ok STATUS WHAT [DETAIL]: one TAP line; DETAIL (words) printed as diagnostics on failure.
ok() {
	N=$((N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		FAILED=$((FAILED + 1))
		[ -z "${3:-}" ] || printf '#   %s\n' $3
	fi
}

# var NAME: a variable of the build's Makefile, expanded by make itself (automake's += lines
# and conditionals included). Nothing is built or regenerated (-o Makefile).
var() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -C "$BUILD_DIR" \
		-o Makefile --eval 'pts-harness-print: ; @echo $(strip $('"$1"'))' pts-harness-print
}

# has WORD LIST: 0 when WORD is one of the words of LIST.
has() {
	case " $2 " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

TESTS_V=$(var TESTS)
PROGS=$(var check_PROGRAMS)
[ -n "$TESTS_V" ] && [ -n "$PROGS" ]
ok $? "the build's Makefile names TESTS and check_PROGRAMS"

missing=""
for p in $PROGS; do
	has "$p" "$TESTS_V" || missing="$missing $p"
done
[ -z "$missing" ]
ok $? "every test program is in TESTS" "$missing"

missing=""
for d in $TEST_DIRS; do
	for f in "$TOP"/tests/$d/*.sh; do
		[ -f "$f" ] || continue
		has "tests/$d/${f##*/}" "$TESTS_V" || missing="$missing tests/$d/${f##*/}"
	done
done
[ -z "$missing" ]
ok $? "every shell test of tests/unit and tests/client is in TESTS" "$missing"

missing=""
for d in $TEST_DIRS; do
	for f in "$TOP"/tests/$d/test_*.c; do
		[ -f "$f" ] || continue
		b=${f##*/}
		has "tests/$d/${b%.c}" "$PROGS" || missing="$missing tests/$d/$b"
	done
done
[ -z "$missing" ]
ok $? "every test_*.c of tests/unit and tests/client is built as a test program" "$missing"

unknown=""
for t in $TESTS_V; do
	case $t in
	*.sh) [ -f "$TOP/$t" ] || unknown="$unknown $t" ;;
	*) has "$t" "$PROGS" || unknown="$unknown $t" ;;
	esac
done
[ -z "$unknown" ]
ok $? "everything in TESTS is a test program or a shell test of the source tree" "$unknown"

for v in LOG_DRIVER SH_LOG_DRIVER; do
	drv=$(var $v)
	case $drv in
	*/build-aux/tap-driver.sh) (cd "$BUILD_DIR" && [ -f "${drv##* }" ]) ;;
	*) false ;;
	esac
	ok $? "$v is automake's tap-driver.sh, and it is there" "$drv"
done
has .sh "$(var TEST_EXTENSIONS)"
ok $? "TEST_EXTENSIONS has .sh (shell tests take SH_LOG_DRIVER)"

# tests/unit is the place of pure tests: a test that starts the fake servers (they are found
# under tests/fakes) belongs in tests/client.
servers=$(grep -l 'tests/fakes/\|fakeup\.py' "$TOP"/tests/unit/*.c 2>/dev/null | sed "s|^$TOP/||")
[ -z "$servers" ]
ok $? "no C test in tests/unit starts the fake servers" "$servers"

echo "1..$N"
[ $FAILED -eq 0 ]
