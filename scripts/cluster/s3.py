#!/usr/bin/python3
"""A tiny S3 client for itd's cluster scripts and smoke tests: AWS Signature V4, path-style
addressing, one keep-alive HTTP connection, the Python standard library only (Debian's python3,
which ceph-common already needs).

    s3.py ping                         any HTTP answer from the endpoint (no credentials needed)
    s3.py mb BUCKET                    create a bucket (an existing one of ours is fine)
    s3.py put BUCKET KEY [FILE|-]      upload (stdin by default)
    s3.py get BUCKET KEY [FILE|-]      download (stdout by default)
    s3.py rm BUCKET KEY                delete an object
    s3.py ls BUCKET [PREFIX]           list keys (first 1000)
    s3.py bench BUCKET SIZE SECONDS    PUT for SECONDS, then GET the same objects for SECONDS,
                                       one request at a time: ops/s, MiB/s, mean latency

Endpoint and credentials come from the environment: ITD_S3_ENDPOINT (http://HOST:PORT),
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION (default us-east-1). Exit status 0
on a 2xx answer, 1 otherwise (the status and body go to stderr).
"""

import datetime
import hashlib
import hmac
import http.client
import os
import sys
import time
import urllib.parse


class S3:
    def __init__(self, endpoint, access_key, secret_key, region, timeout=30.0):
        url = urllib.parse.urlsplit(endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise SystemExit("s3.py: bad endpoint %r (want http://HOST:PORT)" % endpoint)
        self.tls = url.scheme == "https"
        self.host = url.hostname
        self.port = url.port or (443 if self.tls else 80)
        self.netloc = url.netloc
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.timeout = timeout
        self.conn = None

    def _connection(self):
        if self.conn is None:
            cls = http.client.HTTPSConnection if self.tls else http.client.HTTPConnection
            self.conn = cls(self.host, self.port, timeout=self.timeout)
        return self.conn

    def _sign(self, method, path, query, headers, payload_hash):
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        headers["host"] = self.netloc
        headers["x-amz-date"] = amz_date
        headers["x-amz-content-sha256"] = payload_hash
        names = sorted(headers)
        canonical_headers = "".join("%s:%s\n" % (n, str(headers[n]).strip()) for n in names)
        signed = ";".join(names)
        canonical_query = "&".join(
            "%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
            for k, v in sorted(query))
        canonical = "\n".join([method, path, canonical_query, canonical_headers, signed,
                               payload_hash])
        scope = "%s/%s/s3/aws4_request" % (day, self.region)
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self.secret_key).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
            % (self.access_key, scope, signed, signature))

    def request(self, method, bucket="", key="", query=(), body=b"", sign=True):
        path = "/"
        if bucket:
            path += urllib.parse.quote(bucket, safe="")
            if key:
                path += "/" + urllib.parse.quote(key, safe="/-_.~")
        headers = {}
        if sign:
            self._sign(method, path, list(query), headers, hashlib.sha256(body).hexdigest())
        target = path
        if query:
            target += "?" + urllib.parse.urlencode(list(query), quote_via=urllib.parse.quote)
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            conn = self._connection()
            try:
                conn.request(method, target, body=body if body or method == "PUT" else None,
                             headers=headers)
                response = conn.getresponse()
                data = response.read()
                if response.getheader("connection", "").lower() == "close":
                    self.close()
                return response.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def client_from_env():
    endpoint = os.environ.get("ITD_S3_ENDPOINT")
    if not endpoint:
        raise SystemExit("s3.py: set ITD_S3_ENDPOINT (and AWS_ACCESS_KEY_ID, "
                         "AWS_SECRET_ACCESS_KEY), e.g. eval \"$(scripts/cluster/ceph.sh env DIR)\"")
    return S3(endpoint, os.environ.get("AWS_ACCESS_KEY_ID", ""),
              os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
              os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def check(status, data, what):
    if 200 <= status < 300:
        return
    sys.stderr.write("s3.py: %s: HTTP %d %s\n" % (what, status, data[:500].decode(errors="replace")))
    raise SystemExit(1)


def bench(s3, bucket, size, seconds):
    body = os.urandom(size)
    results = []
    for method in ("PUT", "GET"):
        count, start = 0, time.monotonic()
        deadline = start + seconds
        while time.monotonic() < deadline:
            key = "bench/%d-%d" % (size, count if method == "PUT" else count % max(written, 1))
            status, data = s3.request(method, bucket, key, body=body if method == "PUT" else b"")
            check(status, data, "%s %s" % (method, key))
            if method == "GET" and len(data) != size:
                raise SystemExit("s3.py: GET %s: %d bytes, want %d" % (key, len(data), size))
            count += 1
        elapsed = time.monotonic() - start
        if method == "PUT":
            written = count
        results.append("%s %d B: %d ops in %.1f s, %.0f ops/s, %.1f MiB/s, %.2f ms mean"
                       % (method, size, count, elapsed, count / elapsed,
                          count * size / elapsed / 1048576, elapsed / count * 1000))
    for i in range(written):
        s3.request("DELETE", bucket, "bench/%d-%d" % (size, i))
    print("\n".join(results))


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 2
    cmd, args = argv[1], argv[2:]
    if cmd == "ping":
        endpoint = os.environ.get("ITD_S3_ENDPOINT", args[0] if args else "")
        s3 = S3(endpoint, "", "", "us-east-1", timeout=2.0)
        try:
            status, _ = s3.request("GET", sign=False)
        except OSError as e:
            sys.stderr.write("s3.py: ping: %s\n" % e)
            return 1
        print("HTTP %d" % status)
        return 0
    s3 = client_from_env()
    if cmd == "mb" and len(args) == 1:
        status, data = s3.request("PUT", args[0])
        if status == 409 and b"BucketAlreadyOwnedByYou" in data:
            return 0
        check(status, data, "create bucket " + args[0])
    elif cmd == "put" and len(args) in (2, 3):
        src = args[2] if len(args) == 3 else "-"
        body = sys.stdin.buffer.read() if src == "-" else open(src, "rb").read()
        check(*s3.request("PUT", args[0], args[1], body=body), "PUT " + args[1])
    elif cmd == "get" and len(args) in (2, 3):
        status, data = s3.request("GET", args[0], args[1])
        check(status, data, "GET " + args[1])
        if len(args) == 3 and args[2] != "-":
            with open(args[2], "wb") as f:
                f.write(data)
        else:
            sys.stdout.buffer.write(data)
    elif cmd == "rm" and len(args) == 2:
        check(*s3.request("DELETE", args[0], args[1]), "DELETE " + args[1])
    elif cmd == "ls" and len(args) in (1, 2):
        query = [("list-type", "2")] + ([("prefix", args[1])] if len(args) == 2 else [])
        status, data = s3.request("GET", args[0], query=query)
        check(status, data, "list " + args[0])
        import xml.etree.ElementTree as ET
        for element in ET.fromstring(data).iter():
            if element.tag.endswith("}Key") or element.tag == "Key":
                print(element.text)
    elif cmd == "bench" and len(args) == 3:
        bench(s3, args[0], int(args[1]), float(args[2]))
    else:
        sys.stderr.write("s3.py: bad arguments; see s3.py --help\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
