"""A tiny FastCGI client: one request to a responder's unix socket, as nginx would send it.

    status, headers, body = fcgi_request("/path/pts-cgi.sock", "GET", "/api/health")

headers is a dict with lower-case names; body is bytes. Enough of the protocol (FastCGI 1.0,
role RESPONDER, one request per connection) to test pts-cgi without a web server.
"""
import socket
import struct

FCGI_VERSION = 1
FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = \
    1, 3, 4, 5, 6, 7
FCGI_RESPONDER = 1
# Largest content of one record.
RECORD_MAX = 65535


def _record(rtype, content, req_id=1):
    return struct.pack(">BBHHBB", FCGI_VERSION, rtype, req_id, len(content), 0, 0) + content


def _length(n):
    return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)


def _params(params):
    out = b""
    for k, v in params.items():
        k, v = k.encode(), v.encode()
        out += _length(len(k)) + _length(len(v)) + k + v
    return out


def _stream(rtype, data):
    out = b""
    for i in range(0, len(data), RECORD_MAX):
        out += _record(rtype, data[i:i + RECORD_MAX])
    return out + _record(rtype, b"")


def _read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("FastCGI responder closed the connection early")
        buf += chunk
    return buf


def fcgi_request(sock_path, method, path, body=None, headers=None, timeout=15):
    """One request; returns (status, headers, body bytes). headers: HTTP request headers."""
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
    params = {"REQUEST_METHOD": method, "REQUEST_URI": path + ("?" + query if query else ""),
              "DOCUMENT_URI": path, "SCRIPT_NAME": path, "QUERY_STRING": query,
              "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
              "REMOTE_ADDR": "127.0.0.1", "GATEWAY_INTERFACE": "CGI/1.1", "HTTP_HOST": "localhost"}
    data = body or b""
    if body is not None:
        params["CONTENT_LENGTH"] = str(len(data))
    for k, v in (headers or {}).items():
        name = k.upper().replace("-", "_")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            params[name] = v
        else:
            params["HTTP_" + name] = v
    begin = struct.pack(">HB5x", FCGI_RESPONDER, 0)
    msg = _record(FCGI_BEGIN_REQUEST, begin) + _stream(FCGI_PARAMS, _params(params)) + \
        _stream(FCGI_STDIN, data)
    out = b""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(msg)
        while True:
            _, rtype, _, clen, plen, _ = struct.unpack(">BBHHBB", _read_exact(s, 8))
            content = _read_exact(s, clen + plen)[:clen]
            if rtype == FCGI_STDOUT:
                out += content
            elif rtype == FCGI_END_REQUEST:
                break
    head, _, rbody = out.partition(b"\r\n\r\n")
    hdrs = {}
    for line in head.decode("latin-1").split("\r\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    status = int(hdrs.get("status", "200").split()[0])
    return status, hdrs, rbody
