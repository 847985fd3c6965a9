#!/usr/bin/python3
"""The guests' apt mirror, one connection per process: QEMU's guestfwd=...-cmd: starts this for each
TCP connection a guest opens to 10.0.2.100:80, with the connection on stdin/stdout.
Serves GET and HEAD of the files in one directory (HTTP/1.1, keep-alive, pipelining as apt uses it).
    mirror-httpd.py REPO_DIR [LOG_FILE]
"""
import os
import sys
import urllib.parse

root = os.path.realpath(sys.argv[1])
log_path = sys.argv[2] if len(sys.argv) > 2 else None
rfile = sys.stdin.buffer
wfile = sys.stdout.buffer


def log(line):
    if log_path:
        with open(log_path, "a") as f:
            f.write(line + "\n")


def respond(status, reason, body, head_only, content_type="application/octet-stream"):
    headers = [
        f"HTTP/1.1 {status} {reason}",
        f"Content-Length: {len(body)}",
        f"Content-Type: {content_type}",
        "Connection: keep-alive",
        "",
        "",
    ]
    wfile.write("\r\n".join(headers).encode())
    if not head_only:
        wfile.write(body)
    wfile.flush()


while True:
    request_line = rfile.readline()
    if not request_line:
        break
    if request_line in (b"\r\n", b"\n"):
        continue
    while True:
        header = rfile.readline()
        if not header or header in (b"\r\n", b"\n"):
            break
    parts = request_line.decode("latin-1").split()
    if len(parts) < 2:
        break
    method, target = parts[0], parts[1]
    path = urllib.parse.unquote(urllib.parse.urlsplit(target).path)
    full = os.path.realpath(os.path.join(root, path.lstrip("/")))
    head_only = method == "HEAD"
    if method not in ("GET", "HEAD"):
        respond(405, "Method Not Allowed", b"", False)
        log(f"405 {method} {path}")
    elif (full == root or full.startswith(root + os.sep)) and os.path.isfile(full):
        with open(full, "rb") as f:
            respond(200, "OK", f.read(), head_only)
        log(f"200 {method} {path}")
    else:
        respond(404, "Not Found", b"not found\n", head_only, "text/plain")
        log(f"404 {method} {path}")
