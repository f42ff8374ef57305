#!/usr/bin/env python3
"""Loopback helpers for the attested TLS tests (127.0.0.1 only, port 0, the bound port written
to PORTFILE; the test stops them by PID).

  servers.py backend PORTFILE                 plain HTTP backend: GET /hello, GET /sse (3 events,
                                              0.3 s apart), GET /binary (head and a body with
                                              NULs in one write), GET /truncated (Content-Length
                                              100, 10 bytes sent), HEAD (Content-Length 25, no
                                              body), GET /host (the Host headers), POST echo
  servers.py plain PORTFILE CERT KEY          TLS server with an ordinary certificate
  servers.py relay PORTFILE CERT KEY UPPORT   TLS-terminating relay holding CERT/KEY that forwards
                                              every byte to the TLS server on 127.0.0.1:UPPORT
                                              over its own TLS connection (a relaying proxy)
  servers.py closer PORTFILE                  accepts every connection and closes it at once
  servers.py drip PORT N SECS                 client: N connections to 127.0.0.1:PORT, each sending
                                              one byte of a TLS record every 0.5 s (slowloris);
                                              prints "closed N" once the server closed them all,
                                              or "held K" after SECS with K still open
  servers.py hostile PORT CASE                client: one TLS request CASE (bighead, nul,
                                              post-attest, smuggle) to 127.0.0.1:PORT; prints the
                                              number of responses and the first status line
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
        if self.path == '/host':
            body = ('host=' + ','.join(self.headers.get_all('Host') or []) + '\n').encode()
            self.send_response(200)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path == '/truncated':
            # promises 100 bytes, sends 10 and closes: the client must not report success
            self.wfile.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n' + b'0123456789')
            self.close_connection = True
            return
        body = b'hello from backend ' + self.path.encode() + b'\n'
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self):
        self.send_response(200)
        self.send_header('Content-Length', '25')
        self.end_headers()

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
    except (OSError, ValueError):
        pass
    # shutdown wakes the other direction's blocked recv and sends FIN at once (a close alone
    # waits for it); no TLS close_notify is sent, as by a relay that drops the connection
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except (OSError, ValueError):
            pass
        try:
            s.close()
        except (OSError, ValueError):
            pass


def drip(port, n, secs):
    socks = [socket.create_connection(('127.0.0.1', port)) for _ in range(n)]
    for s in socks:
        s.settimeout(0.5)
    record = b'\x16\x03\x01\x3f\xff' + b'\x01' * 16383
    open_ = list(socks)
    t0 = time.time()
    i = 0
    while open_ and time.time() - t0 < secs:
        for s in list(open_):
            try:
                s.send(record[i:i + 1])
                if s.recv(1) == b'':      # the server closed it
                    open_.remove(s)
            except socket.timeout:
                pass
            except OSError:
                open_.remove(s)
        i += 1
    print('held %d' % len(open_) if open_ else 'closed %d' % n, flush=True)


def hold(port, n, src, secs):
    """n connections from address src held open; after 1 s, how many the server closed"""
    socks = [socket.create_connection(('127.0.0.1', port), source_address=(src, 0))
             for _ in range(n)]
    time.sleep(1)
    closed = 0
    for s in socks:
        s.settimeout(0.2)
        try:
            if s.recv(1) == b'':
                closed += 1
        except socket.timeout:
            pass
        except OSError:
            closed += 1
    print('open %d closed %d' % (n - closed, closed), flush=True)
    time.sleep(secs)


def hostile(port, case):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port), timeout=10))
    attest = b'/.well-known/cctrust/attestation?nonce=AAAA'
    if case == 'bighead':
        req = b'GET /hello HTTP/1.1\r\nX: ' + b'a' * 20000 + b'\r\n\r\n'
    elif case == 'nul':
        req = b'GET /hel\x00lo HTTP/1.1\r\n\r\n'
    elif case == 'post-attest':
        req = b'POST ' + attest + b' HTTP/1.1\r\nContent-Length: 0\r\n\r\n'
    else:  # smuggle: a request in the body of an attestation request must not reach the backend
        body = b'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'
        req = b'GET ' + attest + b' HTTP/1.1\r\nContent-Length: %d\r\n\r\n' % len(body) + body
    s.sendall(req)
    out = b''
    try:
        for _ in range(1000):  # bounded
            d = s.recv(65536)
            if not d:
                break
            out += d
    except OSError:
        pass
    print(out.count(b'HTTP/1.1 '), out.split(b'\r\n')[0].decode(errors='replace'))
    print(out.decode(errors='replace'))


def main():
    mode, portfile = sys.argv[1], sys.argv[2]
    if mode == 'drip':
        drip(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
        return
    if mode == 'hold':
        hold(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
        return
    if mode == 'hostile':
        hostile(int(sys.argv[2]), sys.argv[3])
        return
    if mode == 'closer':
        ls = socket.socket()
        ls.bind(('127.0.0.1', 0))
        ls.listen(16)
        open(portfile, 'w').write(str(ls.getsockname()[1]))
        for _ in range(1000):  # bounded
            c, _ = ls.accept()
            c.close()
        return
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
