#!/usr/bin/python3
# Test traffic's server end: listen on ADDR:PORT, create READY once
# listening, then for each of COUNT connections echo what arrives until EOF
# (or a reset, or 2 s of silence) and close. Bounded: 15 s for each accept.
# Usage: echo_server.py ADDR PORT READY [COUNT]
import socket
import sys

addr, port, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3]
count = int(sys.argv[4]) if len(sys.argv) > 4 else 1
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(8)
s.settimeout(15)
open(ready, "w").close()
for _ in range(count):
    c, _ = s.accept()
    c.settimeout(2)
    try:
        while True:
            d = c.recv(4096)
            if not d:
                break
            c.sendall(d)
    except OSError:
        pass
    c.close()
s.close()
