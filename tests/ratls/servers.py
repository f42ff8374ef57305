#!/usr/bin/env python3
"""Loopback helpers for the attested TLS tests (127.0.0.1 only, port 0, the bound port written
to PORTFILE; the test stops them by PID).

  servers.py backend PORTFILE                 plain HTTP backend: GET /hello, GET /sse (3 events,
                                              0.3 s apart), GET /binary (head and a body with
                                              NULs in one write), POST echo
  servers.py plain PORTFILE CERT KEY          TLS server with an ordinary certificate
  servers.py relay PORTFILE CERT KEY UPPORT   TLS-terminating relay holding CERT/KEY that forwards
                                              every byte to the TLS server on 127.0.0.1:UPPORT
                                              over its own TLS connection (a relaying proxy)
"""
import http.server
import socket
import ssl
import sys
import threading
import time


class Backend(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == '/sse':
            self.send_response(200)
            self.send_header('Content-Type', 'text/event-stream')
            self.end_headers()
            for i in range(3):
                self.wfile.write(b'data: tick %d %.3f\n\n' % (i, time.time()))
                self.wfile.flush()
                time.sleep(0.3)
            return
        if self.path == '/binary':
            # head and a binary body (NUL bytes) in one write, as most servers send a small
            # response: the client must not read the body's bytes as part of the head
            body = b'\x00\x01binary\x00' * 10
            self.wfile.write(b'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n'
                             b'Content-Length: %d\r\n\r\n' % len(body) + body)
            return
        body = b'hello from backend ' + self.path.encode() + b'\n'
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get('Content-Length', 0))
        data = self.rfile.read(n)
        body = b'echo:' + data + b' x-test=' + (self.headers.get('X-Test') or '').encode() + b'\n'
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def tls_listener(portfile, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket()
    ls.bind(('127.0.0.1', 0))
    ls.listen(16)
    open(portfile, 'w').write(str(ls.getsockname()[1]))
    return ctx, ls


def pipe(a, b):
    try:
        while True:
            d = a.recv(16384)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.close()
        except OSError:
            pass


def main():
    mode, portfile = sys.argv[1], sys.argv[2]
    if mode == 'backend':
        s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Backend)
        open(portfile, 'w').write(str(s.server_address[1]))
        s.serve_forever()
    ctx, ls = tls_listener(portfile, sys.argv[3], sys.argv[4])
    for _ in range(1000):  # bounded
        c, _ = ls.accept()
        try:
            t = ctx.wrap_socket(c, server_side=True)
        except (ssl.SSLError, OSError):
            c.close()
            continue
        if mode == 'plain':
            try:
                t.recv(4096)
                t.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhi\n')
            except OSError:
                pass
            t.close()
            continue
        up = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        up.check_hostname = False
        up.verify_mode = ssl.CERT_NONE
        u = up.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[5]))))
        threading.Thread(target=pipe, args=(t, u), daemon=True).start()
        threading.Thread(target=pipe, args=(u, t), daemon=True).start()


if __name__ == '__main__':
    main()
