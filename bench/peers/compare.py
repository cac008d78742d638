"""`make bench-peers`: nanoshop's catalog function beside the handlers a merchant would deploy instead.

Three contenders answer the same `GET /products/{id}` API Gateway event under one stand-in for
Lambda's Runtime API (below), against one seeded product in DynamoDB Local:

  catalog  our release binary, in Lambda mode (it sees `AWS_LAMBDA_RUNTIME_API`);
  python   bench/peers/python/app.py, boto3 under AWS's awslambdaric (`python -m awslambdaric`);
  node     bench/peers/node/app.mjs, the AWS SDK v3 under AWS's aws-lambda-ric.

Each run starts every contender afresh, one after the other (so the machine's noise falls on all
three alike), and measures: init (process start to its first poll for work, what Lambda reports as
Init Duration), first answer (process start to the answer of the first event, a real read of the
product and its stock), then `--warm` events one at a time (latency: event queued to answer
posted), and last the peak memory of its process tree (VmHWM of each process, summed). The figures
are printed as a table of medians and of ratios peer / catalog.

Run by scripts/bench.sh (which installs the peers into the cache and starts DynamoDB Local) with
the peers' Python, which has boto3 for creating the tables. Everything else is the standard library.
"""

import argparse
import base64
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
PREFIX = "peers"
CATALOG_TABLE = f"{PREFIX}-catalog"
TABLES = [f"{PREFIX}-{name}" for name in ("catalog", "carts", "orders", "idempotency")]
SECRET = "0123456789abcdef0123456789abcdef"
ISSUER, AUDIENCE, KID = "https://issuer.example", "bench", "bench"
RSA_PRIVATE = ROOT / "shared/api/src/testdata/rsa_private.pem"
RSA_PUBLIC = ROOT / "shared/api/src/testdata/rsa_public.pem"


# --- the stand-in Runtime API ------------------------------------------------------------------
class QuietServer(ThreadingHTTPServer):
    """Says nothing when a process it served is killed mid-connection: every run ends that way."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class Runtime:
    """Lambda's Runtime API for one process: hands out queued events, one per poll, and collects
    the answers with the time each arrived."""

    def __init__(self):
        self.events = queue.Queue()
        self.answers = queue.Queue()
        self.first_poll = None
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Lambda's runtime clients expect
            # Headers and body go out as two writes: with Nagle, the body would wait for the
            # client's delayed ACK (40 ms) on every answer.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    return self.reply(404)
                if runtime.first_poll is None:
                    runtime.first_poll = time.perf_counter()
                try:
                    request_id, event = runtime.events.get(timeout=120)
                except queue.Empty:
                    return self.reply(500)
                self.reply(
                    200,
                    json.dumps(event).encode(),
                    [
                        ("Content-Type", "application/json"),
                        ("Lambda-Runtime-Aws-Request-Id", request_id),
                        ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30_000)),
                        ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:peer"),
                        ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
                    ],
                )

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.perf_counter()
                parts = self.path.split("/")
                ok = self.path.endswith("/response")
                request_id = parts[-2] if "/invocation/" in self.path else "init"
                self.reply(202)
                runtime.answers.put((request_id, ok, body, arrived))

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def queue(self, event):
        request_id = str(uuid.uuid4())
        self.events.put((request_id, event))
        return request_id, time.perf_counter()

    def answer(self, request_id):
        got, ok, body, arrived = self.answers.get(timeout=60)
        if got != request_id or not ok:
            raise RuntimeError(f"expected a response to {request_id}, got {got} ok={ok}: {body[:500]!r}")
        return json.loads(body), arrived

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def api_event(method, path, headers=None, body=None, path_parameters=None):
    """An API Gateway HTTP API (payload 2.0) event for the route `method path`."""
    event = {
        "version": "2.0",
        "routeKey": f"{method} /products/{{id}}" if path_parameters else "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"host": "api.example", **(headers or {})},
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example", "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "bench"},
            "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": "07/Dec/2026:00:00:00 +0000", "timeEpoch": 1_796_000_000_000,
        },
        "isBase64Encoded": False,
    }
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = json.dumps(body)
    return event


# --- the contenders ----------------------------------------------------------------------------
def lambda_env(runtime_address, dynamodb, name):
    """What Lambda sets, the AWS settings every contender reads, and the catalog's settings."""
    return {
        "AWS_LAMBDA_RUNTIME_API": runtime_address,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_STREAM_NAME": "stream",
        "AWS_LAMBDA_LOG_GROUP_NAME": "group",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_ENDPOINT_URL": dynamodb,
        "CATALOG_TABLE": CATALOG_TABLE,
        "IMAGE_BASE_URL": "https://img.example",
        "TZ": "UTC",
    }


def contenders(args, jwks):
    catalog_env = {
        "CARTS_TABLE": TABLES[1], "ORDERS_TABLE": TABLES[2], "IDEMPOTENCY_TABLE": TABLES[3],
        "IMAGE_BUCKET": "b", "CURSOR_SECRET": SECRET, "ORDER_TOKEN_SECRET": SECRET,
        "AUTH_ISSUER": ISSUER, "AUTH_AUDIENCE": AUDIENCE, "AUTH_JWKS": jwks, "RUST_LOG": "warn",
    }
    python_root, node_root = Path(args.python_root), Path(args.node_root)
    return {
        "catalog": ([args.catalog], ROOT, catalog_env),
        "python": (
            [str(python_root / "venv/bin/python"), "-m", "awslambdaric", "app.lambda_handler"],
            python_root / "task",
            {"LAMBDA_TASK_ROOT": str(python_root / "task"), "PYTHONDONTWRITEBYTECODE": "1"},
        ),
        # The client's own entry point, run by node itself: `npx aws-lambda-ric`, as AWS's
        # container example starts it, would add an npm process to the cold start.
        "node": (
            [args.node, str(node_root / "node_modules/aws-lambda-ric/bin/index.mjs"), "app.handler"],
            node_root,
            {"LAMBDA_TASK_ROOT": str(node_root), "NODE_ENV": "production"},
        ),
    }


def process_tree(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def peak_rss_kib(pid):
    """VmHWM of every process of the tree rooted at `pid`, summed."""
    total = 0
    for p in process_tree(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        total += next((int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM:")), 0)
    return total


def start(command, cwd, env, runtime, args, name, log):
    full_env = {"PATH": os.environ["PATH"], **lambda_env(runtime.address, args.dynamodb, name), **env}
    return subprocess.Popen(command, cwd=cwd, env=full_env, stdout=log, stderr=log, start_new_session=True)


def stop(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def measure(name, spec, product_id, args, log):
    """One cold start of `name`, then `args.warm` warm events: (init s, first s, [warm s], KiB,
    the first answer's body)."""
    command, cwd, env = spec
    runtime = Runtime()
    event = api_event("GET", f"/products/{product_id}", path_parameters={"id": product_id})
    first_id, _ = runtime.queue(event)
    started = time.perf_counter()
    process = start(command, cwd, env, runtime, args, name, log)
    try:
        answer, answered = runtime.answer(first_id)
        body = check(name, answer, product_id)
        init, first = runtime.first_poll - started, answered - started
        warm = []
        for _ in range(args.warm):
            request_id, queued = runtime.queue(event)
            answer, answered = runtime.answer(request_id)
            warm.append(answered - queued)
        check(name, answer, product_id)
        return init, first, warm, peak_rss_kib(process.pid), body
    finally:
        stop(process)
        runtime.close()


def check(name, answer, product_id):
    if answer.get("statusCode") != 200:
        raise RuntimeError(f"{name} answered {answer}")
    body = json.loads(answer["body"])
    if body["id"] != product_id or not body["variants"] or body["variants"][0]["available"] <= 0:
        raise RuntimeError(f"{name} answered without the product and its stock: {body}")
    return body


# --- setup: tables and one product, written by the catalog function itself ---------------------
def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def bench_jwks():
    out = subprocess.run(
        ["openssl", "rsa", "-pubin", "-in", RSA_PUBLIC, "-noout", "-modulus"], capture_output=True, text=True, check=True
    ).stdout
    modulus = bytes.fromhex(out.strip().split("=", 1)[1])
    key = {"kty": "RSA", "kid": KID, "alg": "RS256", "use": "sig", "n": b64url(modulus), "e": "AQAB"}
    return json.dumps({"keys": [key]})


def admin_token():
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": KID}
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "bench", "iat": now, "nbf": now, "exp": now + 600,
        "cognito:groups": ["admin"],
    }
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", RSA_PRIVATE], input=signing_input.encode(), capture_output=True, check=True
    ).stdout
    return f"{signing_input}.{b64url(signature)}"


def create_tables(dynamodb):
    """The tables as nanoshop_store's DynamoStore::create_tables makes them (pk/sk, gsi1)."""
    client = boto3.client(
        "dynamodb", endpoint_url=dynamodb, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    existing = set(client.list_tables()["TableNames"])
    for name in TABLES:
        if name in existing:
            continue
        client.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gsi1pk", "gsi1sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "gsi1",
                "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"}, {"AttributeName": "gsi1sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }],
            BillingMode="PAY_PER_REQUEST",
        )
        client.get_waiter("table_exists").wait(TableName=name)


def seed(spec, args, jwks, log):
    """One active product with three variants in stock, created through the catalog function's
    own admin API (POST /products, PUT /inventory/{sku}), so the items are in nanoshop's layout."""
    command, cwd, env = spec
    auth = {"authorization": f"Bearer {admin_token()}", "content-type": "application/json"}
    sizes = ["S", "M", "L"]
    product = {
        "slug": "peer-bench-tee", "title": "Peer bench tee", "description": "A tee read by three runtimes.",
        "status": "active", "tags": ["bench"],
        "options": [{"name": "size", "values": sizes}],
        "variants": [
            {
                "sku": f"PEER-TEE-{s}", "title": s, "options": {"size": s},
                "prices": [{"amount": 2500, "currency": "EUR"}], "weight_grams": 180,
            }
            for s in sizes
        ],
    }
    runtime = Runtime()
    process = start(command, cwd, env, runtime, args, "catalog", log)
    try:
        request_id, _ = runtime.queue(api_event("POST", "/products", auth, product))
        created, _ = runtime.answer(request_id)
        if created.get("statusCode") != 201:
            raise RuntimeError(f"POST /products answered {created}")
        product_id = json.loads(created["body"])["id"]
        for s in sizes:
            request_id, _ = runtime.queue(api_event("PUT", f"/inventory/PEER-TEE-{s}", auth, {"on_hand": 1000}))
            stocked, _ = runtime.answer(request_id)
            if stocked.get("statusCode") != 200:
                raise RuntimeError(f"PUT /inventory answered {stocked}")
        return product_id
    finally:
        stop(process)
        runtime.close()


# --- report ------------------------------------------------------------------------------------
def median(values):
    s = sorted(values)
    return s[len(s) // 2]


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) * p // 100, len(s) - 1)]


def report(results, args):
    ms = lambda s: f"{s * 1000:8.1f} ms"
    rows = {}
    for name, runs in results.items():
        warm = [w for run in runs for w in run[2]]
        rows[name] = {
            "init": median([r[0] for r in runs]),
            "first": median([r[1] for r in runs]),
            "p50": percentile(warm, 50),
            "p99": percentile(warm, 99),
            "peak": median([r[3] for r in runs]),
        }
    lines = [
        f"GET /products/{{id}} under one stand-in Runtime API, against DynamoDB Local: {args.runs} cold starts each,",
        f"interleaved, then {args.warm} warm requests per start ({args.runs * args.warm} per contender); all three",
        "answered the same JSON body; medians:",
        f"  {'':10} {'init':>11} {'first answer':>13} {'warm p50':>11} {'warm p99':>11} {'peak RSS':>10}",
    ]
    for name, r in rows.items():
        lines.append(
            f"  {name:10} {ms(r['init'])} {ms(r['first']):>13} {ms(r['p50'])} {ms(r['p99'])} {r['peak'] / 1024:6.1f} MiB"
        )
    ours = rows["catalog"]
    lines.append("  ratios, peer / catalog (higher: catalog ahead by that factor):")
    for name in ("python", "node"):
        r = rows[name]
        ratio = {key: r[key] / ours[key] for key in r}
        lines.append(
            f"  {name:10} {ratio['init']:10.1f}x {ratio['first']:12.1f}x {ratio['p50']:10.1f}x"
            f" {ratio['p99']:10.1f}x {ratio['peak']:9.1f}x"
        )
    goals = [
        ("first answer", "python", "first", 20),
        ("first answer", "node", "first", 15),
        ("peak memory", "python", "peak", 4),
        ("peak memory", "node", "peak", 4),
    ]
    lines.append("  goals:")
    for figure, peer, key, goal in goals:
        ratio = rows[peer][key] / ours[key]
        lines.append(f"    {figure} >= {goal}x better than {peer}: {ratio:.1f}x, {'met' if ratio >= goal else 'NOT met'}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--catalog", required=True, help="the catalog binary")
    parser.add_argument("--python-root", required=True, help="venv/ and task/app.py of the Python peer")
    parser.add_argument("--node-root", required=True, help="node_modules/ and app.mjs of the Node peer")
    parser.add_argument("--node", default="node")
    parser.add_argument("--dynamodb", required=True, help="DynamoDB Local's endpoint")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warm", type=int, default=50)
    args = parser.parse_args()

    jwks = bench_jwks()
    specs = contenders(args, jwks)
    with tempfile.TemporaryFile("w+") as log:
        try:
            create_tables(args.dynamodb)
            product_id = seed(specs["catalog"], args, jwks, log)
            results = {name: [] for name in specs}
            # One throwaway run of each first: the page cache and DynamoDB Local's JVM are warm in
            # AWS too, and the first contender would otherwise pay for warming them alone (its
            # warm p99 came out twice the others' without). It also shows that the peers answer
            # what the catalog answers.
            bodies = {name: measure(name, spec, product_id, args, log)[4] for name, spec in specs.items()}
            for name, body in bodies.items():
                if body != bodies["catalog"]:
                    raise RuntimeError(f"{name} answered\n{body}\nwhere the catalog answered\n{bodies['catalog']}")
            for _ in range(args.runs):
                for name, spec in specs.items():
                    results[name].append(measure(name, spec, product_id, args, log))
        except Exception:
            log.seek(0)
            sys.stderr.write(log.read()[-4000:])
            raise
    print(report(results, args))


if __name__ == "__main__":
    main()
