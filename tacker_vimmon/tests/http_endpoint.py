#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""A tiny VIM API for the API check's tests: HTTP(S), one status for all.

In a test process (HttpEndpoint, on loopback) or as a script that a test
starts inside a namespace host with ``ip netns exec``::

    python -m tacker_vimmon.tests.http_endpoint --address 10.250.0.6 \\
        --port 5000 --status 300 [--cert cert.pem --key key.pem] [--hang]

``--hang`` accepts connections and never answers. The script prints
``listening`` once it is.

Also certificates for it (self_signed): a CA-less certificate for an
address, valid or expired.
"""

import argparse
import datetime
import http.server
import ipaddress
import os
import socket
import ssl
import sys
import threading


def self_signed(address, days=30, expired=False):
    """(certificate PEM, key PEM) of a self-signed certificate for address.

    :param expired: valid from 60 days ago to yesterday
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    if expired:
        start, end = now - datetime.timedelta(days=60), now - \
            datetime.timedelta(days=1)
    else:
        start, end = now - datetime.timedelta(days=1), now + \
            datetime.timedelta(days=days)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(address))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM,
                              serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def self_signed_files(directory, address, **kwargs):
    """self_signed(), also written to cert.pem and key.pem in directory.

    :returns: (certificate PEM, (certificate file, key file))
    """
    cert, key = self_signed(address, **kwargs)
    paths = []
    for name, text in (('cert.pem', cert), ('key.pem', key)):
        paths.append(os.path.join(directory, name))
        with open(paths[-1], 'w') as f:
            f.write(text)
    return cert, tuple(paths)


def _handler(status):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            body = b'{"version": {"id": "v3.14"}}'
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # an API check closes once it has the status line

        def log_message(self, *args):
            pass
    return Handler


def _server(address, port, status, cert=None, key=None):
    family = socket.AF_INET6 if ':' in address else socket.AF_INET
    server_class = type('Server', (http.server.ThreadingHTTPServer,),
                        {'address_family': family, 'daemon_threads': True,
                         'request_queue_size': 128})
    server = server_class((address, port), _handler(status))
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


class HttpEndpoint:
    """An endpoint in this process on loopback; port 0 picks a free one."""

    def __init__(self, status=200, address='127.0.0.1', cert=None,
                 key=None):
        self.server = _server(address, 0, status, cert, key)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        args=(0.05,), daemon=True)
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--address', required=True)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--status', type=int, default=300)
    parser.add_argument('--cert')
    parser.add_argument('--key')
    parser.add_argument('--hang', action='store_true')
    args = parser.parse_args(argv)
    if args.hang:
        family = socket.AF_INET6 if ':' in args.address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.address, args.port))
        sock.listen(64)
        print('listening', flush=True)
        held = []
        while True:
            held.append(sock.accept()[0])   # and never a byte back
    server = _server(args.address, args.port, args.status, args.cert,
                     args.key)
    print('listening', flush=True)
    server.serve_forever()


if __name__ == '__main__':
    sys.exit(main())
