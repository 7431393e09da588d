#!/bin/sh
# test_cgi_mode.sh - run pts-cgi as a plain CGI program (environment + stdin, as Apache
# does) against a fresh data folder and check the API's edge rules and a few answers.
# Prints TAP. Usage: tests/unit/test_cgi_mode.sh [BUILD_DIR]   (default: $PTS_BUILD_DIR, as
# make check sets it, else the current folder)
set -u

BUILD_DIR=${1:-${PTS_BUILD_DIR:-.}}
BIN=$BUILD_DIR/cgi/pts-cgi
if [ ! -x "$BIN" ]; then
	echo "Bail out! $BIN not found (build first, or pass the build folder)"
	exit 1
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pts-cgi-test.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
# Run as root, pts-cgi becomes the service user, which must pass through to its data folder.
chmod 711 "$TMP"
DATA=$TMP/var
N=0
FAILED=0

# Nothing from the caller's environment may look like a request.
unset GATEWAY_INTERFACE REQUEST_METHOD REQUEST_URI SCRIPT_NAME PATH_INFO QUERY_STRING \
	CONTENT_TYPE CONTENT_LENGTH HTTP_X_REQUESTED_WITH HTTP_ORIGIN HTTP_HOST HTTP_COOKIE HTTPS
# Nor may the switches of the edge be set from outside.
unset PTS_ALLOWED_HOSTS PTS_REQUIRE_PASSWORD PTS_COOKIE_SECURE PTS_HTTP_ADDR

ok() {
	N=$((N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $N - $2"
	else
		echo "not ok $N - $2"
		FAILED=$((FAILED + 1))
		if [ -s "$TMP/out" ]; then sed 's/^/#   /' "$TMP/out"; echo; fi
		if [ -s "$TMP/err" ]; then sed 's/^/#   stderr: /' "$TMP/err"; fi
	fi
}

# call METHOD URI [BODY [VAR=value ...]]: one CGI run. The answer is in $TMP/out, the status
# code in $STATUS, the body in $BODY. CONTENT_TYPE defaults to JSON and
# X-Requested-With is sent unless the caller overrides them (VAR= to unset).
call() {
	method=$1 uri=$2 body=${3-}
	shift 2
	[ $# -gt 0 ] && shift
	case $uri in
	*\?*) qs=${uri#*\?} ;;
	*) qs= ;;
	esac
	printf '%s' "$body" >"$TMP/in"
	env PTS_DATA_DIR="$DATA" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD="$method" \
		REQUEST_URI="$uri" QUERY_STRING="$qs" HTTP_HOST=127.0.0.1:8080 \
		CONTENT_TYPE=application/json CONTENT_LENGTH=$(wc -c <"$TMP/in" | tr -d ' ') \
		HTTP_X_REQUESTED_WITH=XMLHttpRequest "$@" \
		"$BIN" <"$TMP/in" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	STATUS=$(sed -n '1s/^Status: \([0-9]*\).*/\1/p' "$TMP/out")
	BODY=$(sed '1,/^\r*$/d' "$TMP/out")
	if [ $RC -ne 0 ] || grep -q 'Sanitizer' "$TMP/err"; then
		STATUS="exit$RC"
	fi
}

has() { printf '%s' "$BODY" | grep -q -- "$1"; }
header() { grep -qi "^$1" "$TMP/out"; }

# ---- health, not found, method not allowed ----
call GET /api/health ""
[ "$STATUS" = 200 ] && has '"ok":true' && has '"db":"ok"' && header 'Content-Type: application/json'
ok $? "GET /api/health is 200 JSON"
header 'Cache-Control: no-store'
ok $? "answers carry Cache-Control: no-store"

call GET /api/nope ""
[ "$STATUS" = 404 ] && has '"code":"not_found"'
ok $? "unknown path is 404 not_found JSON"

call GET /api/health/ ""
[ "$STATUS" = 404 ]
ok $? "a trailing slash is another path (404)"

call DELETE /api/settings ""
[ "$STATUS" = 405 ] && has '"code":"method_not_allowed"' && header 'Allow: GET, PUT'
ok $? "wrong method is 405 with Allow"

call GET "" "" REQUEST_URI= SCRIPT_NAME=/api PATH_INFO=/health
[ "$STATUS" = 200 ]
ok $? "SCRIPT_NAME + PATH_INFO (Apache ScriptAlias) route too"

# ---- CSRF, size, type, JSON ----
call PUT /api/settings '{"plex_url": "http://127.0.0.1:32400"}' HTTP_X_REQUESTED_WITH=
[ "$STATUS" = 403 ] && has '"code":"forbidden"'
ok $? "missing X-Requested-With is 403"

call PUT /api/settings '{"plex_url": "http://127.0.0.1:32400"}' \
	HTTP_ORIGIN=http://evil.example
[ "$STATUS" = 403 ] && has '"code":"forbidden"'
ok $? "foreign Origin is 403"

call PUT /api/settings '{"sync_interval_hours": 12}' \
	HTTP_ORIGIN=http://127.0.0.1:8080
[ "$STATUS" = 200 ] && has '"sync_interval_hours":12'
ok $? "same-origin Origin passes and the setting is saved"

call PUT /api/settings '{}' CONTENT_LENGTH=70000
[ "$STATUS" = 413 ] && has '"code":"too_large"'
ok $? "CONTENT_LENGTH over 64 KiB is 413"

call PUT /api/settings '{"dry_run": true}' CONTENT_TYPE=text/plain
[ "$STATUS" = 415 ] && has '"code":"unsupported_media_type"'
ok $? "text/plain body is 415"

call PUT /api/settings '{"dry_run": true}' \
	"CONTENT_TYPE=application/json; charset=utf-8"
[ "$STATUS" = 200 ]
ok $? "application/json with a charset parameter is accepted"

call PUT /api/settings '{"plex_url": "http://bad.example"'
[ "$STATUS" = 400 ] && has '"code":"bad_json"'
ok $? "malformed JSON is 400 bad_json"

call PUT /api/settings '{"plex_url": "http://bad.example", "sync_interval_hours": 999}'
[ "$STATUS" = 400 ] && has '"code":"invalid_settings"' && has '"sync_interval_hours":'
ok $? "an invalid setting is 400 invalid_settings with fields"

call GET /api/settings ""
[ "$STATUS" = 200 ] && ! has 'bad.example'
ok $? "nothing of a refused PUT was stored"

# ---- secrets are write-only ----
call PUT /api/settings '{"trakt_client_secret": "s3cr3t-value-123"}'
[ "$STATUS" = 200 ] && ! has 's3cr3t' && has '"trakt_client_secret":{"set":true}'
ok $? "PUT a secret answers it masked"
call GET /api/settings ""
[ "$STATUS" = 200 ] && ! has 's3cr3t' && has '"trakt_client_secret":{"set":true}'
ok $? "GET settings never shows the secret"

# ---- sync ----
call POST /api/sync "" CONTENT_TYPE=
[ "$STATUS" = 202 ] && has '"run_id":1'
ok $? "POST /api/sync without a body is 202 with run_id"
call POST /api/sync '{"dry_run": false}'
[ "$STATUS" = 409 ] && has '"code":"conflict"' && has '"run_id":1'
ok $? "a second POST /api/sync is 409 with the running run_id"
call POST /api/sync '{"dry_run": "yes", "bogus": 1}'
[ "$STATUS" = 400 ] && has '"dry_run":' && has '"bogus":'
ok $? "bad sync options are 400 with fields"
call GET /api/progress ""
[ "$STATUS" = 200 ] && has '"state":"queued"' && has '"run_id":1'
ok $? "progress shows the queued run"
call POST /api/sync/stop "" CONTENT_TYPE=
[ "$STATUS" = 202 ]
ok $? "POST /api/sync/stop is 202"

# ---- query parameters and {id} ----
call GET '/api/log?limit=0' ""
[ "$STATUS" = 400 ] && has '"limit":'
ok $? "log?limit=0 is 400 with fields.limit"
call GET '/api/log?limit=5x' ""
[ "$STATUS" = 400 ] && has '"limit":'
ok $? "log?limit=5x is 400"
call GET '/api/log?limit=5&limit=6' ""
[ "$STATUS" = 400 ]
ok $? "a repeated parameter is 400"
call GET '/api/log?after=0&limit=5' ""
[ "$STATUS" = 200 ] && has '"entries":\[' && has '"last_id":'
ok $? "log?after=0&limit=5 is 200"
call GET /api/runs/1/changes ""
[ "$STATUS" = 200 ] && has '"changes":\[\]'
ok $? "runs/1/changes is 200"
call GET /api/runs/99/changes ""
[ "$STATUS" = 404 ]
ok $? "changes of an unknown run is 404"
call GET /api/runs/abc/changes ""
[ "$STATUS" = 404 ]
ok $? "a non-numeric {id} is 404"

# ---- the Host rule (DNS rebinding) ----
call PUT /api/settings '{"sync_interval_hours": 9}' HTTP_HOST=evil.example:8080 \
	HTTP_ORIGIN=http://evil.example:8080
[ "$STATUS" = 421 ] && has '"code":"misdirected"'
ok $? "a foreign Host with a matching Origin is 421 misdirected"
call GET /api/settings ""
[ "$STATUS" = 200 ] && ! has '"sync_interval_hours":9'
ok $? "and nothing was saved"
call GET /api/health "" HTTP_HOST=
[ "$STATUS" = 421 ]
ok $? "an empty Host is 421"
call GET /api/nope "" HTTP_HOST=evil.example
[ "$STATUS" = 421 ]
ok $? "the Host rule comes before the route (421, not 404)"
call GET /api/health "" HTTP_HOST='[::1]:8080'
[ "$STATUS" = 200 ]
ok $? "an IPv6 literal Host is fine"
call GET /api/health "" HTTP_HOST=localhost
[ "$STATUS" = 200 ]
ok $? "localhost is fine"
call GET /api/health "" HTTP_HOST=NAS.lan:8080 PTS_ALLOWED_HOSTS='media.example, nas.lan'
[ "$STATUS" = 200 ]
ok $? "a name in PTS_ALLOWED_HOSTS is fine, without case"
call GET /api/health "" HTTP_HOST=nas.lan.evil:8080 PTS_ALLOWED_HOSTS='nas.lan'
[ "$STATUS" = 421 ]
ok $? "a name that only starts like an allowed one is 421"

# ---- PTS_REQUIRE_PASSWORD (no password is set yet) ----
call GET /api/settings "" PTS_HTTP_ADDR=0.0.0.0
[ "$STATUS" = 403 ] && has '"code":"password_required"'
ok $? "on a wide PTS_HTTP_ADDR the password is required by default (403 password_required)"
call GET /api/status "" PTS_HTTP_ADDR=0.0.0.0
[ "$STATUS" = 200 ]
ok $? "status answers while the password is required"
call GET /api/settings "" PTS_HTTP_ADDR='[::1]'
[ "$STATUS" = 200 ]
ok $? "on a loopback PTS_HTTP_ADDR it is not"
call GET /api/settings "" PTS_HTTP_ADDR=0.0.0.0 PTS_REQUIRE_PASSWORD=0
[ "$STATUS" = 200 ]
ok $? "PTS_REQUIRE_PASSWORD=0 turns it off"
call POST /api/sync '{}' PTS_REQUIRE_PASSWORD=1
[ "$STATUS" = 403 ] && has '"code":"password_required"'
ok $? "PTS_REQUIRE_PASSWORD=1 turns it on on loopback"
call GET /api/runs "" PTS_REQUIRE_PASSWORD=yes
[ "$STATUS" = 403 ] && grep -q 'PTS_REQUIRE_PASSWORD' "$TMP/err"
ok $? "another value requires it, and says so in the log"

# ---- the dashboard password ----
call PUT /api/settings '{"dashboard_password": "hunter22"}'
[ "$STATUS" = 200 ] && ! has 'hunter22' && has '"dashboard_password":{"set":true}'
ok $? "setting the dashboard password answers it masked"
call GET /api/status ""
[ "$STATUS" = 401 ] && has '"code":"unauthorized"'
ok $? "with a password set, status needs a session (401)"
call GET /api/health ""
[ "$STATUS" = 200 ]
ok $? "health stays public"
call POST /api/login '{"password": "wrong"}'
[ "$STATUS" = 401 ] && ! header 'Set-Cookie'
ok $? "a wrong password is 401 without a cookie"
call POST /api/login '{"password": "hunter22"}' HTTP_X_REQUESTED_WITH=
[ "$STATUS" = 403 ]
ok $? "login needs the CSRF header too"
call POST /api/login '{"password": "hunter22"}'
COOKIE=$(sed -n 's/^Set-Cookie: \(pts_session=[0-9a-f]*\);.*/\1/p' "$TMP/out" | tr -d '\r')
[ "$STATUS" = 200 ] && [ ${#COOKIE} -eq 76 ] && grep -q 'HttpOnly; SameSite=Strict' "$TMP/out"
ok $? "the right password sets an HttpOnly SameSite=Strict session cookie"
call GET /api/status "" HTTP_COOKIE="theme=dark; $COOKIE"
[ "$STATUS" = 200 ]
ok $? "the session cookie opens the API"
call POST /api/logout "" CONTENT_TYPE= HTTP_COOKIE="$COOKIE"
[ "$STATUS" = 200 ] && grep -q 'Max-Age=0' "$TMP/out"
ok $? "logout clears the cookie"
call GET /api/status "" HTTP_COOKIE="$COOKIE"
[ "$STATUS" = 401 ]
ok $? "after logout the old cookie is refused"

# ---- PTS_COOKIE_SECURE ----
call POST /api/login '{"password": "hunter22"}'
grep -q '^Set-Cookie: pts_session=' "$TMP/out" && ! grep -q 'Secure' "$TMP/out"
ok $? "plain HTTP: the session cookie is not Secure by default"
call POST /api/login '{"password": "hunter22"}' HTTPS=on
grep -q '^Set-Cookie: pts_session=.*; Secure' "$TMP/out"
ok $? "HTTPS=on from the web server: Secure (auto)"
call POST /api/login '{"password": "hunter22"}' PTS_COOKIE_SECURE=1
grep -q '^Set-Cookie: pts_session=.*; Secure' "$TMP/out"
ok $? "PTS_COOKIE_SECURE=1: Secure over plain HTTP"
call POST /api/login '{"password": "hunter22"}' PTS_COOKIE_SECURE=0 HTTPS=on
[ "$STATUS" = 200 ] && ! grep -q 'Secure' "$TMP/out"
ok $? "PTS_COOKIE_SECURE=0: never Secure"

# ---- a database that cannot be opened ----
: >"$TMP/file"
call GET /api/health "" PTS_DATA_DIR="$TMP/file"
[ "$STATUS" = 503 ] && has '"ok":false'
ok $? "health is 503 when the database cannot be opened"
call GET /api/runs "" PTS_DATA_DIR="$TMP/file"
[ "$STATUS" = 500 ] && has '"code":"db_unavailable"'
ok $? "other paths are 500 db_unavailable then"

echo "1..$N"
[ $FAILED -eq 0 ]
