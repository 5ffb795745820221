#!/usr/bin/env python3
# rpcd's ,http listeners, from a client's side, over raw sockets so that
# every byte sent and every byte answered is seen: JSON-RPC 2.0 (calls,
# batches, notifications, each error code), POST /call/METHOD, GET
# /methods and /ready, CORS; keep-alive, pipelining, deferred calls
# answered in order; the hostile battery (heads truncated, oversized and
# folded, slowloris on the head and on the body, bad and doubled
# Content-Length, chunked bodies, a request pipelined after a bad one,
# 2,000 idle keep-alive connections, 900 under the select backend);
# limits, stats and metrics with the front end; a drain.
#
# usage: http_client.py RPCD TESTMOD
import json
import os
import resource
import signal
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rpcdtest  # noqa: E402

tap = rpcdtest.Tap()
RPCD, MOD = sys.argv[1], sys.argv[2]
PING = b'{"jsonrpc":"2.0","method":"ping","params":[1],"id":1}'


def start(*args):
    """rpcd with an HTTP listener first, then a framed one."""
    r = rpcdtest.Rpcd([RPCD, "-l", "127.0.0.1:0,http", "-l", "127.0.0.1:0",
                       "-m", MOD] + list(args))
    if r.addr is None:
        tap.diag(r.log())
        sys.exit(tap.done() or 1)
    return r


def connect(r, timeout=10):
    return rpcdtest.connect(r.addr, timeout)


def post(path, body, ctype="application/json", extra=b"", version=b"1.1"):
    return (b"POST " + path + b" HTTP/" + version + b"\r\nHost: t\r\n"
            b"Content-Type: " + ctype.encode() + b"\r\nContent-Length: " +
            str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def get(path, extra=b""):
    return b"GET " + path + b" HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n"


class Reader:
    """Responses off one connection: status, headers, body."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            chunk = b""
        self.buf += chunk
        return chunk != b""

    def response(self):
        """(status, {header: value}, body); None at end of file."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                return None
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            if not self._fill():
                return None
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body

    def eof(self):
        """True if the peer closes with nothing more sent."""
        return self.buf == b"" and not self._fill()


def exchange(r, data, n=1, timeout=10):
    """Send data on a new connection; its first n responses (None where
    none came) and whether the connection then ended."""
    s = connect(r, timeout)
    s.sendall(data)
    rd = Reader(s)
    out = [rd.response() for _ in range(n)]
    ended = rd.eof()
    s.close()
    return out, ended


def one(r, data):
    """The response to data on a new connection, left open."""
    s = connect(r)
    s.sendall(data)
    resp = Reader(s).response()
    s.close()
    return resp


def body(resp):
    return json.loads(resp[2]) if resp and resp[2] else None


# ### JSON-RPC 2.0 and the routes.
r = start("--http-cors", "https://app.example", "--max-frame", "65536",
          "--frame-timeout", "2", "--max-inflight", "8")
resp = one(r, post(b"/", PING))
tap.ok(resp is not None and resp[0] == 200 and
       resp[1].get("content-type") == "application/json" and
       resp[2] == b'{"jsonrpc":"2.0","result":[1],"id":1}',
       "POST / answers a JSON-RPC ping: 200, the params echoed, the id")
tap.ok(resp is not None and "date" in resp[1] and
       "connection" not in resp[1],
       "with a Date, and no Connection: close on HTTP/1.1")
named = one(r, post(b"/", b'{"jsonrpc": "2.0", "method": "echo", '
                    b'"params": {"a": [1, 2.50, "\\u00e9"]}, "id": "x7"}'))
tap.ok(named is not None and named[2] ==
       b'{"jsonrpc":"2.0","result":{"a": [1, 2.50, "\\u00e9"]},"id":"x7"}',
       "params by name go to the method byte for byte; a string id kept")
resp = one(r, post(b"/", b'{"jsonrpc":"2.0","method":"ping","params":[2]}'))
tap.ok(resp is not None and resp[0] == 200 and resp[2] == b"" and
       resp[1].get("content-length") == "0" and
       "content-type" not in resp[1],
       "a notification runs and is answered 200 with an empty body")
errors = [
    (b'{"jsonrpc":"2.0","method":"ping","id":5', -32700, "bad_json", None),
    (b'{"jsonrpc":"2.0","method":"nosuch","id":5}', -32601,
     "unknown_method", 5),
    (b'{"jsonrpc":"1.0","method":"ping","id":5}', -32600, "bad_jsonrpc", 5),
    (b'{"jsonrpc":"2.0","method":"ping","params":3,"id":5}', -32600,
     "bad_jsonrpc", 5),
    (b'{"jsonrpc":"2.0","id":5}', -32600, "no_method", 5),
    (b'[1', -32700, "bad_json", None),
    (b'[]', -32600, "bad_jsonrpc", None),
    (b'"x"', -32600, "not_object", None),
    (b'{"jsonrpc":"2.0","method":"later","params":["x"],"id":5}', -32602,
     "bad_params", 5),
    (b'{"jsonrpc":"2.0","method":"fail","id":5}', -32000, "nope", 5),
    (b'{"jsonrpc":"2.0","method":"silent","id":5}', -32603,
     "internal_error", 5),
]
for req, code, word, rid in errors:
    resp = one(r, post(b"/", req))
    b = body(resp)
    tap.ok(resp is not None and resp[0] == 200 and b is not None and
           b.get("jsonrpc") == "2.0" and b.get("id") == rid and
           b["error"]["code"] == code and b["error"]["data"] == word and
           isinstance(b["error"]["message"], str),
           "%s: error %d, data %s, id %s" % (req.decode(), code, word, rid))
batch = (b'[{"jsonrpc":"2.0","method":"later","params":[50,"slow"],"id":1},'
         b'{"jsonrpc":"2.0","method":"ping","params":[2]},'
         b'{"jsonrpc":"2.0","method":"nosuch","id":3},'
         b'{"jsonrpc":"2.0","method":"echo","params":["e"],"id":4},'
         b'7]')
resp = one(r, post(b"/", batch))
tap.ok(resp is not None and resp[0] == 200 and body(resp) == [
    {"jsonrpc": "2.0", "result": "slow", "id": 1},
    {"jsonrpc": "2.0", "error": {"code": -32601, "message": "no such method",
                                 "data": "unknown_method"}, "id": 3},
    {"jsonrpc": "2.0", "result": ["e"], "id": 4},
    {"jsonrpc": "2.0", "error": {"code": -32600,
                                 "message": "body is not a JSON object",
                                 "data": "not_object"}, "id": None}],
    "a batch: one array, in request order, a deferred call's result "
    "first, the notification left out, each error in its place")
resp = one(r, post(b"/", b'[{"jsonrpc":"2.0","method":"ping"},'
                   b'{"jsonrpc":"2.0","method":"later","params":[20]}]'))
tap.ok(resp is not None and resp[0] == 200 and resp[2] == b"" and
       resp[1].get("content-length") == "0",
       "a batch of notifications only: 200, empty, once they are done")
resp = one(r, post(b"/", b"[" + b",".join([PING] * 9) + b"]"))
tap.ok(body(resp) is not None and body(resp)["error"]["data"] ==
       "bad_jsonrpc" and "max-inflight" in body(resp)["error"]["message"],
       "a batch of more calls than --max-inflight (8) is one invalid "
       "request")
resp = one(r, post(b"/call/echo", b'{"k": [true, null]}'))
tap.ok(resp is not None and resp[0] == 200 and resp[2] ==
       b'{"k": [true, null]}', "POST /call/echo: 200, the result as the body")
resp = one(r, post(b"/call/pi%6eg", b""))
tap.ok(resp is not None and resp[0] == 200 and resp[2] == b"null",
       "POST /call/pi%6eg: the name unescaped; no body is no params")
for path, data, status, word in [
        (b"/call/nosuch", b"1", 404, "unknown_method"),
        (b"/call/fail", b"1", 500, "nope"),
        (b"/call/later", b'["x"]', 400, "bad_params"),
        (b"/call/echo", b"[1", 400, "bad_json"),
        (b"/call/x%00y", b"1", 400, "bad_method"),
        (b"/call/pi%6", b"1", 400, "bad_method"),
        (b"/call/p%g1ng", b"1", 400, "bad_method")]:
    resp = one(r, post(path, data))
    tap.ok(resp is not None and resp[0] == status and
           body(resp).get("code") == word and "message" in body(resp),
           "POST %s: %d with rpcd's error object, %s" %
           (path.decode(), status, word))
resp = one(r, get(b"/methods"))
tap.ok(resp is not None and resp[0] == 200 and
       {m["name"] for m in body(resp)} >= {"ping", "echo", "later"},
       "GET /methods lists the methods, the module's too")
resp = one(r, get(b"/ready"))
tap.ok(resp is not None and resp[0] == 200 and body(resp) == {"ready": True},
       "GET /ready: 200 while serving")
for data, status, word, allow in [
        (get(b"/nowhere"), 404, "not_found", None),
        (get(b"/"), 405, "method_not_allowed", "POST, OPTIONS"),
        (post(b"/methods", b"1"), 405, "method_not_allowed",
         "GET, OPTIONS"),
        (b"PUT / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", 405,
         "method_not_allowed", "POST, OPTIONS"),
        (post(b"/", PING, "text/plain"), 415, "unsupported_media_type",
         None),
        (post(b"/", PING, "application/x-www-form-urlencoded"), 415,
         "unsupported_media_type", None)]:
    resp = one(r, data)
    tap.ok(resp is not None and resp[0] == status and
           body(resp)["code"] == word and resp[1].get("allow") == allow,
           "%s: %d %s%s, a JSON body" % (data.split(b"\r\n")[0].decode(),
                                        status, word,
                                        ", Allow: " + allow if allow else ""))
resp = one(r, post(b"/", PING, "Application/JSON; charset=utf-8"))
tap.ok(resp is not None and resp[0] == 200,
       "a JSON media type is known whatever its case and parameters")

# ### Keep-alive, pipelining, order; HTTP/1.0.
reqs = [post(b"/", b'{"jsonrpc":"2.0","method":"later","params":[80,"a"],'
             b'"id":1}'),
        post(b"/call/echo", b'"b"'),
        get(b"/nowhere"),
        post(b"/", b'{"jsonrpc":"2.0","method":"later","params":[10,"c"],'
             b'"id":2}'),
        post(b"/", b'[{"jsonrpc":"2.0","method":"echo","params":["d"],'
             b'"id":3}]'),
        post(b"/", b'{"jsonrpc":"2.0","method":"work","params":[30,"e"],'
             b'"id":4}'),
        post(b"/call/echo", b'"f"')]
s = connect(r)
s.sendall(b"".join(reqs))
rd = Reader(s)
got = [rd.response() for _ in reqs]
tap.ok([g[2] if g else None for g in got] == [
    b'{"jsonrpc":"2.0","result":"a","id":1}', b'"b"',
    b'{"code":"not_found","message":"no such path"}',
    b'{"jsonrpc":"2.0","result":"c","id":2}',
    b'[{"jsonrpc":"2.0","result":["d"],"id":3}]',
    b'{"jsonrpc":"2.0","result":"e","id":4}', b'"f"'],
    "7 pipelined requests on one connection, deferred and offloaded ones "
    "among them: answered in order")
s.sendall(post(b"/call/echo", b"6"))
tap.ok(rd.response()[2] == b"6", "and the connection is kept alive after")
s.close()
resps, ended = exchange(r, post(b"/call/echo", b"1", version=b"1.0"))
tap.ok(resps[0] is not None and resps[0][2] == b"1" and
       resps[0][1].get("connection") == "close" and ended,
       "HTTP/1.0: Connection: close, and closed")
resps, ended = exchange(r, post(b"/call/echo", b"1", version=b"1.0",
                                extra=b"Connection: keep-alive\r\n") +
                        post(b"/call/echo", b"2", version=b"1.0"), 2)
tap.ok([x[2] for x in resps if x] == [b"1", b"2"] and ended,
       "HTTP/1.0 with keep-alive: kept for the next one")
resps, ended = exchange(r, post(b"/call/echo", b"1",
                                extra=b"Connection: close\r\n") +
                        post(b"/call/echo", b"2"), 2)
tap.ok(resps[0] is not None and resps[0][2] == b"1" and
       resps[0][1].get("connection") == "close" and resps[1] is None and
       ended, "Connection: close: answered, closed, the next one unread")
s = connect(r)
s.sendall(b"POST /call/echo HTTP/1.1\r\nHost: t\r\nContent-Type: "
          b"application/json\r\nContent-Length: 5\r\n"
          b"Expect: 100-continue\r\n\r\n")
rd = Reader(s)
while b"\r\n\r\n" not in rd.buf and rd._fill():
    pass
cont = rd.buf.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
rd.buf = rd.buf[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
s.sendall(b"12345")
resp = rd.response()
tap.ok(cont and resp is not None and resp[2] == b"12345",
       "Expect: 100-continue gets 100 Continue, then the answer")
s.close()

# ### CORS.
resp = one(r, b"OPTIONS / HTTP/1.1\r\nHost: t\r\nOrigin: https://app.example"
           b"\r\nAccess-Control-Request-Method: POST\r\n"
           b"Access-Control-Request-Headers: content-type\r\n\r\n")
tap.ok(resp is not None and resp[0] == 204 and
       resp[1].get("access-control-allow-origin") == "https://app.example"
       and "POST" in resp[1].get("access-control-allow-methods", "") and
       resp[1].get("access-control-allow-headers") == "Content-Type" and
       resp[1].get("access-control-max-age") == "600",
       "a preflight from an origin of --http-cors: 204 and CORS's headers")
resp = one(r, post(b"/", PING, extra=b"Origin: https://app.example\r\n"))
tap.ok(resp is not None and resp[0] == 200 and
       resp[1].get("access-control-allow-origin") == "https://app.example"
       and resp[1].get("vary") == "Origin",
       "and its calls carry Access-Control-Allow-Origin")
for data in [post(b"/", PING, extra=b"Origin: https://evil.example\r\n"),
             b"OPTIONS / HTTP/1.1\r\nHost: t\r\nOrigin: https://evil.example"
             b"\r\nAccess-Control-Request-Method: POST\r\n\r\n"]:
    resp = one(r, data)
    tap.ok(resp is not None and resp[0] == 403 and
           body(resp)["code"] == "origin_not_allowed" and
           "access-control-allow-origin" not in resp[1],
           "%s from another origin: 403, no CORS header" %
           data.split(b" ")[0].decode())

# ### The hostile battery: each case's answer.
hostile = [
    ("a bad request line", b"GARBAGE\r\n\r\n", 400, "bad_request"),
    ("a request line with no version", b"GET /ready\r\n\r\n", 400,
     "bad_request"),
    ("HTTP/2.0 in a request line", b"GET /ready HTTP/2.0\r\nHost: t\r\n\r\n",
     505, "version_not_supported"),
    ("no Host in HTTP/1.1", b"GET /ready HTTP/1.1\r\n\r\n", 400,
     "bad_request"),
    ("a header without a colon", get(b"/ready", b"Bogus header\r\n"), 400,
     "bad_request"),
    ("a space before a header's colon", get(b"/ready", b"Host : t\r\n"), 400,
     "bad_request"),
    ("a header folded over two lines",
     get(b"/ready", b"X-A: 1\r\n folded\r\n"), 400, "bad_request"),
    ("a Content-Length not a number",
     b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\n", 400,
     "bad_request"),
    ("a negative Content-Length",
     b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400,
     "bad_request"),
    ("two Content-Lengths that differ",
     b"POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
     b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n[1]", 400,
     "bad_request"),
    ("Content-Length and Transfer-Encoding (smuggling)",
     b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "bad_request"),
    ("a chunked body",
     b"POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
     b"Transfer-Encoding: chunked\r\n\r\n5\r\n[1,2]\r\n0\r\n\r\n", 411,
     "length_required"),
    ("another transfer coding",
     b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
     "not_implemented"),
    ("another expectation", get(b"/ready", b"Expect: magic\r\n"), 417,
     "expectation_failed"),
    ("a body over --max-frame (64 KiB), unsent",
     b"POST / HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
     b"Content-Length: 65537\r\n\r\n", 413, "frame_too_large"),
    ("a head of 9,000 bytes", get(b"/ready", b"X-Big: " + b"a" * 9000 +
                                  b"\r\n"), 431, "head_too_large"),
    ("101 headers", get(b"/ready", b"X-A: 1\r\n" * 101), 431,
     "head_too_large"),
    ("a NUL in a header", get(b"/ready", b"X-A: a\0b\r\n"), 400,
     "bad_request"),
]
for what, data, status, word in hostile:
    resps, ended = exchange(r, data + get(b"/ready"), 2)
    resp = resps[0]
    tap.ok(resp is not None and resp[0] == status and
           resp[1].get("connection") == "close" and
           body(resp)["code"] == word and resps[1] is None and ended,
           "%s: %d %s, Connection: close, closed; the request pipelined "
           "after it is not answered" % (what, status, word))
s = connect(r)
s.sendall(b"GET /ready HTTP/1.1\r\nHost: t\r\n")
s.shutdown(socket.SHUT_WR)
rd = Reader(s)
tap.ok(rd.response() is None and rd.eof(),
       "a head cut short by the end of file: closed without an answer")
s.close()
for what, data in [("on the head", b"GET /ready HTTP/1.1\r\nHo"),
                   ("on the body", post(b"/call/echo", b"[1,2,3]")[:-3])]:
    s = connect(r)
    began = time.monotonic()
    s.sendall(data)
    rd = Reader(s)
    # A byte a second: the slow peer gets no more than --frame-timeout.
    resp = None
    while resp is None and time.monotonic() - began < 8:
        s.settimeout(1)
        try:
            more = s.recv(65536)
        except socket.timeout:
            try:
                s.sendall(b"x" if what == "on the head" else b" ")
            except OSError:
                break
            continue
        if not more:
            break
        rd.buf += more
        s.settimeout(10)
        resp = rd.response()
    took = time.monotonic() - began
    tap.ok(resp is not None and resp[0] == 408 and
           body(resp)["code"] == "request_timeout" and 1.5 < took < 5,
           "slowloris %s, a byte a second: 408 after --frame-timeout (2 s), "
           "took %.1f s" % (what, took))
    s.close()

# ### 2,000 idle keep-alive connections, then more requests.  Under
# libevent's select backend rpcd holds at most FD_SETSIZE descriptors
# (rpcd(8), EVENT_NOPOLL): 900 there.
NIDLE = 900 if os.environ.get("EVENT_NOPOLL") else 2000
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < 4500 and hard >= 4500:
    resource.setrlimit(resource.RLIMIT_NOFILE, (4500, hard))
if resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 4500:
    idle = []
    for i in range(NIDLE):
        s = connect(r)
        s.sendall(get(b"/ready"))
        idle.append((s, Reader(s)))
    answered = sum(1 for s, rd in idle if (rd.response() or [0])[0] == 200)
    again = one(r, post(b"/", PING))
    tap.ok(answered == NIDLE and again is not None and again[0] == 200,
           "%d keep-alive connections, each answered, held idle; "
           "another client is answered beside them" % NIDLE)
    stats = json.loads(one(r, post(b"/call/stats", b""))[2])
    tap.ok(stats["total"]["connections"] >= NIDLE + 1,
           "rpcd holds them all: %d connections open" %
           stats["total"]["connections"])
    for s, rd in idle:
        s.sendall(post(b"/call/echo", b"7"))
    answered = sum(1 for s, rd in idle if (rd.response() or [0])[0] == 200)
    tap.ok(answered == NIDLE, "each idle connection is answered again")
    for s, rd in idle:
        s.close()
else:
    tap.ok(False, "cannot open 4,500 descriptors for 2,000 connections")

# ### Stats and metrics name the front end; the access log counts requests.
stats = json.loads(one(r, post(b"/call/stats", b""))[2])
rows = {(m["name"], m["frontend"]): m for m in stats["methods"]}
tap.ok(rows.get(("ping", "http"), {}).get("calls", 0) >= 5 and
       rows.get(("ping", "framed"), {}).get("calls") == 0,
       "stats counts the calls over HTTP in rows of their own: "
       "frontend http")
r.stop()
log = r.log()
tap.ok("(HTTP)" in log and "closed: Connection: close" in log,
       "the log names the HTTP listener and each connection's end")

# ### max-conns: 503, a JSON body, closed.
r = start("--max-conns", "1")
s1 = connect(r)
s1.sendall(get(b"/ready"))
Reader(s1).response()
resps, ended = exchange(r, get(b"/ready"))
tap.ok(resps[0] is not None and resps[0][0] == 503 and
       body(resps[0])["code"] == "busy" and ended,
       "over --max-conns: 503 busy, closed")
s1.close()
r.stop()
log += r.log()

# ### --client-conns: 503 busy too; /metrics labels the front end.
r = start("--client-conns", "1", "--metrics-listen", "127.0.0.1:0")
s1 = connect(r)
s1.sendall(post(b"/call/ping", b"[1]"))
Reader(s1).response()
resps, ended = exchange(r, get(b"/ready"))
tap.ok(resps[0] is not None and resps[0][0] == 503 and
       body(resps[0])["code"] == "busy" and ended,
       "over --client-conns: 503 busy, closed")
s1.close()
metrics = [ln for ln in r.lines if "serving metrics on" in ln]
scrape = urllib.request.urlopen(metrics[0].split("serving metrics on ")[1],
                                timeout=10).read().decode() if metrics else ""
tap.ok('rpcd_requests_total{method="ping",frontend="http",outcome="ok"} 1\n'
       in scrape and
       'rpcd_requests_total{method="ping",frontend="framed",outcome="ok"} 0\n'
       in scrape,
       "/metrics counts the ping over HTTP with frontend=\"http\"")
r.stop()
log += r.log()

# ### A drain: requests read once shutting down get Connection: close.
r = start("--max-inflight", "1")
s = connect(r)
# The second waits unread until the first is answered (--max-inflight 1).
s.sendall(post(b"/", b'{"jsonrpc":"2.0","method":"later","params":[400,null],'
               b'"id":9}') + get(b"/ready"))
began = time.monotonic()
while time.monotonic() - began < 10:
    st = json.loads(one(r, post(b"/call/stats", b""))[2])
    if any(m["name"] == "later" and m["frontend"] == "http" and
           m["in_flight"] == 1 for m in st["methods"]):
        break
r.signal(signal.SIGTERM)
rd = Reader(s)
resp = rd.response()
tap.ok(resp is not None and resp[2] == b'{"jsonrpc":"2.0","result":null,'
       b'"id":9}', "SIGTERM: the call in flight is answered")
resp = rd.response()
tap.ok(resp is not None and resp[0] == 503 and
       body(resp)["code"] == "draining" and
       resp[1].get("connection") == "close" and rd.eof(),
       "the request read after it: GET /ready 503 draining, "
       "Connection: close, closed")
tap.ok(r.stop() == 0, "rpcd exits 0")
log += r.log()

# ### --drain-delay: /ready says 503 at once; calls are served on.
r = start("--drain-delay", "3")
# Serving, its signals handled, before the signal.
tap.ok(one(r, get(b"/ready"))[0] == 200, "GET /ready: 200 before SIGTERM")
r.signal(signal.SIGTERM)
began = time.monotonic()
resp = None
while time.monotonic() - began < 10:
    resp = one(r, get(b"/ready"))
    if resp is None or resp[0] != 200:
        break
took = time.monotonic() - began
tap.ok(resp is not None and resp[0] == 503 and took < 2.5,
       "SIGTERM with --drain-delay 3: GET /ready 503 within %.1f s" % took)
resp = one(r, post(b"/call/echo", b"5"))
tap.ok(resp is not None and resp[0] == 200 and resp[2] == b"5" and
       resp[1].get("connection") is None,
       "while calls are still answered, keep-alive, through the delay")
tap.ok(r.stop() == 0, "rpcd exits 0")
log += r.log()
report = rpcdtest.sanitizer_report(log)
tap.ok(report is None, "no sanitizer report: %s" % report)
sys.exit(tap.done())
