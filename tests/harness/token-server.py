#!/usr/bin/python3
"""A small token server for distribution's `auth: token`, for tests only.

It authenticates token requests against a fixed user list and signs JWTs
(RS256 or ES256) whose `x5c` header carries a self-signed certificate; that
certificate is also the registry's `rootcertbundle`.  Standard library plus
Debian's python3-jwt and python3-cryptography; run it with /usr/bin/python3.

Every request to the token endpoint is counted in --count-file (one integer)
and logged to --log (never a password or a refresh token).
"""

import argparse
import base64
import datetime
import http.server
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def parse_args(argv):
    p = argparse.ArgumentParser(description="token server for registry tests")
    p.add_argument("--key", required=True,
                   help="PEM private key; generated (with --cert) if missing")
    p.add_argument("--cert", required=True,
                   help="PEM self-signed certificate of --key; generated if missing")
    p.add_argument("--alg", choices=["ES256", "RS256"],
                   help="signing algorithm (default: from the key, ES256 when generating)")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--port-file", help="write the bound port here once listening")
    p.add_argument("--path", default="/token", help="endpoint path (default /token)")
    p.add_argument("--users", action="append", default=[],
                   help="USER:PASS[,USER:PASS...]; may repeat")
    p.add_argument("--withhold", action="append", default=[],
                   help="never grant this action (e.g. delete, or '*' for the catalog); may repeat")
    p.add_argument("--anonymous", choices=["empty", "deny"], default="empty",
                   help="without credentials: a token granting nothing (default) or 401")
    p.add_argument("--ttl", type=int, default=300, help="token lifetime, seconds (expires_in)")
    p.add_argument("--exp-offset", type=int, default=0,
                   help="seconds added to the exp claim only (the registry allows 60 s of "
                        "leeway past exp; -60 makes tokens stop working after --ttl)")
    p.add_argument("--issuer", default="regsweep-test-issuer")
    p.add_argument("--service", default="regsweep-test",
                   help="audience when the request names no service")
    p.add_argument("--log", help="append one line per request here (default stderr)")
    p.add_argument("--count-file", help="number of token requests served so far")
    return p.parse_args(argv)


def load_or_make_signer(key_path, cert_path, alg):
    """Return (private_key, cert_der, alg); make a key and a self-signed cert if absent."""
    if os.path.exists(key_path) and os.path.exists(cert_path):
        with open(key_path, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
        with open(cert_path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
    else:
        if alg == "RS256":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "regsweep-token-signer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder()
                .subject_name(name).issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=7))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        write_private(key_path, key.private_bytes(serialization.Encoding.PEM,
                                                  serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
        write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    if isinstance(key, rsa.RSAPrivateKey):
        key_alg = "RS256"
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        key_alg = "ES256"
    else:
        sys.exit("token-server: unsupported key type in %s" % key_path)
    if alg and alg != key_alg:
        sys.exit("token-server: --alg %s does not match the key in %s" % (alg, key_path))
    return key, cert.public_bytes(serialization.Encoding.DER), key_alg


def write_private(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def write_atomic(path, text):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def parse_scope(scope):
    """'repository:NAME:pull,push' -> (type, class, name, [actions]) or None.

    The name may itself hold colons (a registry host with a port), so the
    type ends at the first colon and the actions start after the last one.
    """
    first = scope.find(":")
    last = scope.rfind(":")
    if first <= 0 or last == first:
        return None
    rtype, name, actions = scope[:first], scope[first + 1:last], scope[last + 1:]
    rclass = ""
    if rtype.endswith(")") and "(" in rtype:
        rtype, rclass = rtype[:-1].split("(", 1)
    return rtype, rclass, name, [a for a in actions.split(",") if a]


class State:
    def __init__(self, args):
        self.args = args
        self.users = {}
        for spec in args.users:
            for pair in spec.split(","):
                if pair:
                    user, _, password = pair.partition(":")
                    self.users[user] = password
        self.withhold = set(args.withhold)
        self.key, cert_der, self.alg = load_or_make_signer(args.key, args.cert, args.alg)
        self.x5c = [base64.b64encode(cert_der).decode("ascii")]
        self.refresh_tokens = {}
        self.count = 0
        self.lock = threading.Lock()
        self.logf = open(args.log, "a", buffering=1) if args.log else sys.stderr
        if args.count_file:
            write_atomic(args.count_file, "0\n")

    def bump(self):
        with self.lock:
            self.count += 1
            if self.args.count_file:
                write_atomic(self.args.count_file, "%d\n" % self.count)
            return self.count

    def log(self, line):
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with self.lock:
            self.logf.write("%s %s\n" % (stamp, line))
            self.logf.flush()

    def grant(self, user, scopes):
        """The access list for USER: everything asked for, minus withheld actions."""
        if user is None:
            return []
        merged = {}
        order = []
        for scope in scopes:
            parsed = parse_scope(scope)
            if parsed is None:
                continue
            rtype, rclass, name, actions = parsed
            key = (rtype, rclass, name)
            if key not in merged:
                merged[key] = []
                order.append(key)
            for action in actions:
                if action not in self.withhold and action not in merged[key]:
                    merged[key].append(action)
        access = []
        for rtype, rclass, name in order:
            actions = merged[(rtype, rclass, name)]
            if not actions:
                continue
            entry = {"type": rtype, "name": name, "actions": actions}
            if rclass:
                entry["class"] = rclass
            access.append(entry)
        return access

    def issue(self, user, service, scopes):
        now = int(time.time())
        claims = {
            "iss": self.args.issuer,
            "sub": user or "",
            "aud": service or self.args.service,
            "exp": now + self.args.ttl + self.args.exp_offset,
            "nbf": now - 1,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": self.grant(user, scopes),
        }
        token = jwt.encode(claims, self.key, algorithm=self.alg, headers={"x5c": self.x5c})
        issued = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        return {
            "token": token,
            "access_token": token,
            "expires_in": self.args.ttl,
            "issued_at": issued.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }, claims["access"]


def split_scopes(values):
    out = []
    for value in values:
        out.extend(s for s in value.split(" ") if s)
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "regsweep-token-server/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass  # every request gets its own line through State.log

    @property
    def state(self):
        return self.server.state

    def reply(self, status, body, extra_headers=()):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def unauthorized(self, why):
        self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": why}]},
                   [("WWW-Authenticate", 'Basic realm="regsweep-token"')])
        return None

    def basic_user(self):
        """('user', ok) from an Authorization: Basic header; (None, True) if none sent."""
        header = self.headers.get("Authorization", "")
        if not header:
            return None, True
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None, False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None, False
        user, _, password = decoded.partition(":")
        return user, self.check_password(user, password)

    def check_password(self, user, password):
        expected = self.state.users.get(user)
        return expected is not None and secrets.compare_digest(expected, password)

    def endpoint(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != self.state.args.path:
            self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
            return None
        return url

    def do_GET(self):
        url = self.endpoint()
        if url is None:
            return
        n = self.state.bump()
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        service = (query.get("service") or [""])[0]
        scopes = split_scopes(query.get("scope", []))
        user, good = self.basic_user()
        if not good:
            self.state.log("#%d GET user=%s scopes=%s -> 401 bad credentials" % (n, user, scopes))
            self.unauthorized("bad credentials")
            return
        if user is None and self.state.args.anonymous == "deny":
            self.state.log("#%d GET anonymous scopes=%s -> 401" % (n, scopes))
            self.unauthorized("authentication required")
            return
        body, access = self.state.issue(user, service, scopes)
        offline = (query.get("offline_token") or [""])[0].lower() == "true"
        if offline and user is not None:
            body["refresh_token"] = self.new_refresh_token(user)
        self.state.log("#%d GET user=%s service=%s scopes=%s -> 200 access=%s"
                       % (n, user, service, scopes, json.dumps(access)))
        self.reply(200, body)

    def do_POST(self):
        url = self.endpoint()
        if url is None:
            return
        n = self.state.bump()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length > 0 else ""
        form = urllib.parse.parse_qs(raw, keep_blank_values=True)

        def field(name):
            return (form.get(name) or [""])[0]

        grant_type = field("grant_type")
        service = field("service")
        scopes = split_scopes(form.get("scope", []))
        if grant_type == "password":
            user = field("username")
            if not self.check_password(user, field("password")):
                self.state.log("#%d POST grant=password user=%s -> 401" % (n, user))
                self.reply(401, {"error": "invalid_grant",
                                 "error_description": "bad username or password"})
                return
        elif grant_type == "refresh_token":
            user = self.state.refresh_tokens.get(field("refresh_token"))
            if user is None:
                self.state.log("#%d POST grant=refresh_token -> 401 unknown refresh token" % n)
                self.reply(401, {"error": "invalid_grant",
                                 "error_description": "unknown refresh token"})
                return
        else:
            self.state.log("#%d POST grant=%r -> 400" % (n, grant_type))
            self.reply(400, {"error": "unsupported_grant_type"})
            return
        body, access = self.state.issue(user, service, scopes)
        if grant_type == "password" and field("access_type") == "offline":
            body["refresh_token"] = self.new_refresh_token(user)
        self.state.log("#%d POST grant=%s user=%s service=%s scopes=%s -> 200 access=%s"
                       % (n, grant_type, user, service, scopes, json.dumps(access)))
        self.reply(200, body)

    def new_refresh_token(self, user):
        token = secrets.token_urlsafe(24)
        with self.state.lock:
            self.state.refresh_tokens[token] = user
        return token


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main(argv):
    args = parse_args(argv)
    state = State(args)
    server = Server((args.bind, args.port), Handler)
    server.state = state
    port = server.server_address[1]
    if args.port_file:
        write_atomic(args.port_file, "%d\n" % port)
    state.log("listening on %s:%d alg=%s ttl=%d withhold=%s"
              % (args.bind, port, state.alg, args.ttl, sorted(state.withhold)))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
