#!/bin/sh
# A real browser calls rpcd from a page of another origin: headless
# Chromium (Debian's chromium) loads tests/browser/page.html from a
# Python http.server, and the page calls rpcd's ,http listener, another
# origin, with fetch(): a result, a JSON-RPC batch and an error, put in
# the DOM, which --dump-dom prints once the page's scripts are done.
# With --http-cors naming the page's origin each comes back; without, the
# browser refuses every call (the preflight is answered 403).

. "${top_srcdir:-.}/tests/tap.sh"
. "$top_srcdir/tests/lib.sh"

need_python3
D=$TEST_DIR
CHROMIUM=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROMIUM" ]; then
	[ "${CI:-}" = true ] && bail_out "chromium not found, and CI=true"
	skip_all "chromium not found: apt-get install chromium"
fi

# The page's own origin: a static server on an ephemeral port.
cp "$top_srcdir/tests/browser/page.html" "$D/page.html"
"$PYTHON3" -c '
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
print("serving on 127.0.0.1:%d" % s.server_address[1], flush=True)
s.serve_forever()' "$D" >"$D/pages.out" 2>"$D/pages.err" &
PAGES_PID=$!
served() { grep -q 'serving on' "$D/pages.out"; }
wait_for 100 served || bail_out "the page server did not start"
ORIGIN=http://$(sed -n 's/serving on //p' "$D/pages.out")

# dom API_URL: the page's DOM once its three calls have settled.
dom()
{
	rm -rf "$D/profile"
	# --virtual-time-budget runs the page's timers and network until it
	# is idle, up to 20 s of virtual time; the page marks data-done.
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	    --disable-dev-shm-usage --no-first-run --user-data-dir="$D/profile" \
	    --virtual-time-budget=20000 --dump-dom \
	    "$ORIGIN/page.html?api=$1" 2>"$D/chromium.err"
}

# http_pings: the calls of ping over HTTP that rpcd counted.
http_pings()
{
	"$PYTHON3" -c '
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "call/stats", b"",
                             {"Content-Type": "application/json"})
stats = json.load(urllib.request.urlopen(req))
print(sum(m["calls"] for m in stats["methods"]
          if m["name"] == "ping" and m["frontend"] == "http"))' \
	    "http://$RPCD_ADDR/"
}

### Allowed: --http-cors names the page's origin.
rpcd_start -l 127.0.0.1:0,http --http-cors "$ORIGIN" ||
    bail_out "rpcd did not start"
API=http://$RPCD_ADDR/
dom "$API" >"$D/allowed.html"
ok_test "the page ran to the end" grep -q 'data-done="1"' "$D/allowed.html"
is "$(sed -n 's|.*<pre id="result">\(.*\)</pre>.*|\1|p' "$D/allowed.html")" \
    'OK {"jsonrpc":"2.0","result":["from a page"],"id":1}' \
    "fetch() from another origin gets ping's result"
is "$(sed -n 's|.*<pre id="batch">\(.*\)</pre>.*|\1|p' "$D/allowed.html")" \
    'OK [{"jsonrpc":"2.0","result":[1],"id":1},{"jsonrpc":"2.0","result":[2],"id":2}]' \
    "and a JSON-RPC batch's"
is "$(sed -n 's|.*<pre id="error">\(.*\)</pre>.*|\1|p' "$D/allowed.html")" \
    'OK {"jsonrpc":"2.0","error":{"code":-32601,"message":"no such method","data":"unknown_method"},"id":3}' \
    "and an error's"
is "$(http_pings)" 3 "rpcd counts 3 pings over HTTP: the page's calls"
rpcd_stop

### Refused: the same page, rpcd without --http-cors.
rpcd_start -l 127.0.0.1:0,http || bail_out "rpcd did not start"
dom "http://$RPCD_ADDR/" >"$D/refused.html"
ok_test "the page ran to the end" grep -q 'data-done="1"' "$D/refused.html"
for id in result batch error; do
	is "$(sed -n "s|.*<pre id=\"$id\">\(.*\)</pre>.*|\1|p" "$D/refused.html")" \
	    'FAILED TypeError: Failed to fetch' \
	    "without --http-cors the browser refuses the $id call"
done
is "$(http_pings)" 0 \
    "none reached a method: refused at the preflight, never sent"
rpcd_stop
kill "$PAGES_PID"
wait "$PAGES_PID" 2>/dev/null
done_testing
