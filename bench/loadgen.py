"""Closed-loop HTTP load generator: N keep-alive clients for a fixed time.

Runs as its own processes (``python bench/loadgen.py``) so that the client does not share
the server's interpreter; each process runs several client threads with one persistent
``http.client`` connection each (reconnecting when the server closes it).
"""

import http.client
import json
import multiprocessing as mp
import sys
import threading
import time
import uuid


def _client(host, port, path, body_kind, token, deadline, out, errors):
    conn = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    skus = body_kind.get("skus", [])
    i = 0
    while time.perf_counter() < deadline:
        i += 1
        if body_kind["kind"] == "noop":
            body = json.dumps({"channel": "web", "external_id": str(i), "lines": [1, 2, 3]})
        else:
            n = len(skus)
            lines = [
                {
                    "sku": skus[(i * 7 + k * 13 + hash(threading.get_ident())) % n],
                    "quantity": 1,
                    "unit_price": "10.00",
                }
                for k in range(3)
            ]
            body = json.dumps(
                {
                    "channel": body_kind["channel"],
                    "external_id": uuid.uuid4().hex,
                    "currency": "BRL",
                    "customer": {"email": f"c{i % 500}@example.com", "name": "Bench"},
                    "shipping_address": {
                        "name": "Bench",
                        "line1": "Rua 1",
                        "city": "Campinas",
                        "region": "SP",
                        "postcode": "13000-000",
                        "country": "BR",
                    },
                    "lines": lines,
                    "shipping_total": "5.00",
                    "financial_status": "paid",
                }
            )
        t0 = time.perf_counter()
        try:
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            ok = resp.status in (200, 201)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
            ok = False
        dt = time.perf_counter() - t0
        if ok:
            out.append(dt)
        else:
            errors.append(dt)
    conn.close()


def _process(args, queue):
    host, port, path, body_kind, token, seconds, threads = args
    deadline = time.perf_counter() + seconds
    out, errors = [], []
    workers = [
        threading.Thread(
            target=_client, args=(host, port, path, body_kind, token, deadline, out, errors)
        )
        for _ in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put((out, len(errors)))


def run_load(
    *, host="127.0.0.1", port, path, body_kind, token=None, seconds=10.0, clients=16, processes=2
) -> dict:
    queue = mp.Queue()
    per = clients // processes
    procs = [
        mp.Process(
            target=_process, args=((host, port, path, body_kind, token, seconds, per), queue)
        )
        for _ in range(processes)
    ]
    start = time.perf_counter()
    for p in procs:
        p.start()
    latencies, errors = [], 0
    for _ in procs:
        lat, err = queue.get()
        latencies += lat
        errors += err
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(q):
        return (
            latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0
        )

    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
    }


if __name__ == "__main__":
    print(run_load(port=int(sys.argv[1]), path=sys.argv[2], body_kind={"kind": "noop"}))
