"""Live feed benchmark: N websocket clients on loopback while reads are posted at R reads/s.

    python bench/live.py                                   # 1,000 clients, 2,000 reads/s, 20 s
    python bench/live.py --clients 10000 --seconds 15

A `gambero serve` subprocess (bench/live_server.py: the same, with its fan-out timed) serves a
generated event (the demo's). Client processes (`--workers`, bench/live_clients.py) connect
the clients: raw sockets in one epoll loop per process, offering permessage-deflate as
browsers do (`--no-deflate`: not). This process posts finish reads through the ingest route
in batches every 50 ms (on time, without waiting for the answers), each chip read 8 times
in a row as on a mat: first for `--warm-up` seconds unmeasured, then for `--seconds`.
The phones of a race are not on the server's machine: by default the server runs on a core
of its own and the clients and the posting on the others (`--share-cores`: all on all), and
the client processes are SCHED_BATCH, so that a client woken by a write does not take the
CPU from the server at once (`--clients-preempt`: they may). It prints:
- the clients' side: post to the first message that includes it arriving at each client
  (p50, p99, max), and how long after the server last wrote a frame the last client read it
  (the client processes' own delay);
- the server's side: a post's round trip (durable commit), post to the first and to the last
  client written its frame, one pass over every client (wall and CPU time), and the server's
  garbage collections while posting (each stops its event loop);
- messages per second per client, the server's resident memory per idle client (with the
  clients connected and idle, minus before, over N), CPU use and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass
from multiprocessing import Queue
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backends import machine_line
from live_clients import Clients, Report

from gambero.demo import write_event

TOKEN = "gmb_bench-live-admin-token"
BATCHES_PER_S = 20
HERE = Path(__file__).resolve().parent


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def histogram_percentile(histogram: array[int], fraction: float) -> int:
    wanted = fraction * sum(histogram)
    seen = 0
    for millis, count in enumerate(histogram):
        seen += count
        if count and seen >= wanted:
            return millis
    return len(histogram)


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def clients_process(port: int, path: str, count: int, deflate: bool, ready: Queue[str],
                    go: EventType, stop: EventType, sent: Queue[list[tuple[float, int]]],
                    results: Queue[Report], batch: bool) -> None:
    if batch and hasattr(os, "sched_setscheduler"):
        # Browsers are on other machines: here a client process woken by the server's write
        # would take the CPU from the server at once (wake-up preemption), so the server's
        # fan-out would pay for the clients' reading. SCHED_BATCH gives the clients the same
        # share of the CPU, only without preempting on wake-up.
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    clients = Clients(port, path, count, deflate)
    try:
        clients.connect_all()
    except (OSError, ConnectionError) as error:
        ready.put(f"client process: {error}")
        return
    ready.put("")
    while not go.is_set():
        clients.step(0.05)
    cpu_before = time.process_time()
    while not stop.is_set():
        clients.step(0.05)
    cpu = time.process_time() - cpu_before
    results.put(clients.report(sent.get(), cpu))


async def post_reads(base: str, chips: list[str], rate: int, seconds: float,
                     sent: list[tuple[float, float, int]]) -> int:
    """Post a batch every 1/BATCHES_PER_S s, each on time whether or not the ones before
    were answered (readers post on their own), as the readers of a race would."""
    rng = random.Random(7)
    per_batch = max(1, rate // BATCHES_PER_S)
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def post(http: httpx.AsyncClient, reads: list[dict[str, Any]]) -> None:
        t0 = time.perf_counter()
        answer = await http.post("/api/readers/finish-main/reads", json={"reads": reads},
                                 headers=headers)
        sent.append((t0, time.perf_counter(), int(answer.json()["seq"])))

    posts = []
    limits = httpx.Limits(max_connections=BATCHES_PER_S * 5)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        started = time.perf_counter()
        for batch in range(int(seconds * BATCHES_PER_S)):
            if (wait := started + batch / BATCHES_PER_S - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            now_ms = time.time_ns() // 1_000_000
            # A finish line: each chip read a few times in a row, as a mat does.
            reads = [{"chip": chips[(batch * per_batch + index) // 8 % len(chips)],
                      "time_ms": now_ms + index + rng.randint(0, 3)}
                     for index in range(per_batch)]
            posts.append(asyncio.create_task(post(http, reads)))
        await asyncio.gather(*posts)
    sent.sort(key=lambda post: post[2])  # by seq: the clients' reports walk them in order
    return len(posts) * per_batch


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def spread_line(values: list[float]) -> str:
    if not values:
        return "none"
    return (f"p50 {ms(statistics.median(values))}, p99 {ms(percentile(values, 0.99))}, "
            f"max {ms(max(values))}")


def server_side(sent: list[tuple[float, float, int]], chunks: list[list[Any]],
                commits: list[list[Any]]) -> list[str]:
    """Figures from the server's own timing of each commit and of each chunk of clients a
    fan-out pass wrote to (seq, started, ended, clients, CPU, pass, chunk)."""
    committed = {int(seq): at for seq, at in commits}
    by_chunk: dict[int, list[list[Any]]] = {}
    for chunk in chunks:
        by_chunk.setdefault(int(chunk[6]), []).append(chunk)
    to_start, to_end, feed = [], [], []
    for t0, _, seq in sent:
        firsts = [next((chunk for chunk in runs if chunk[0] >= seq), None)
                  for runs in by_chunk.values()]
        if not firsts or any(first is None for first in firsts):
            continue
        to_start.append(min(first[1] for first in firsts if first) - t0)
        written = max(first[2] for first in firsts if first)
        to_end.append(written - t0)
        if seq in committed:
            feed.append(written - committed[seq])
    passes: dict[int, list[list[Any]]] = {}
    for chunk in chunks:
        if chunk[3]:
            passes.setdefault(int(chunk[5]), []).append(chunk)
    durations = [runs[-1][2] - runs[0][1] for runs in passes.values()]
    cpu = [sum(chunk[4] for chunk in runs) for runs in passes.values()]
    return [f"post round trip (durable commit): {spread_line([b - a for a, b, _ in sent])}",
            f"post to the first client written its frame: {spread_line(to_start)}",
            f"post to the last client written it (every socket): {spread_line(to_end)}",
            f"the feed alone, commit to every socket written: {spread_line(feed)}",
            f"one fan-out pass over every client: {spread_line(durations)} "
            f"({len(passes)} passes); the server's CPU time for it: {spread_line(cpu)}"]


async def measure(base: str, port: int, pid: int, args: argparse.Namespace,
                  chips: list[str]) -> Run:
    ws_path = "/ws/live" + (f"?race={args.race}" if args.race else "")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        now_ms = time.time_ns() // 1_000_000
        for race, wave in (("mile", "elite"), ("mile", "open"), ("kids", None)):
            await http.post(f"/api/races/{race}/gun", json={"time_ms": now_ms - 420_000,
                                                            "wave": wave},
                            headers={"Authorization": f"Bearer {TOKEN}"})
    await asyncio.sleep(1)
    rss_before = rss_kb(pid)
    context = multiprocessing.get_context("spawn")
    ready: Queue[str] = context.Queue()
    results: Queue[Report] = context.Queue()
    sent_out: Queue[list[tuple[float, int]]] = context.Queue()
    go, stop = context.Event(), context.Event()
    shares = [args.clients // args.workers + (1 if index < args.clients % args.workers else 0)
              for index in range(args.workers)]
    connect_started = time.perf_counter()
    processes = [context.Process(target=clients_process,
                                 args=(port, ws_path, share, not args.no_deflate, ready, go,
                                       stop, sent_out, results, not args.clients_preempt))
                 for share in shares if share]
    for process in processes:
        process.start()
    for _ in processes:
        if failure := await asyncio.to_thread(ready.get, True, 900):
            sys.exit(failure)
    connect_s = time.perf_counter() - connect_started
    await asyncio.sleep(2)
    rss_idle = rss_kb(pid)
    idle_load = load()
    go.set()
    if args.warm_up > 0:
        # Not measured: connecting 10,000 clients at once grows the server's heap so much
        # that CPython's next full collection (about 0.3 s at 10,000 clients here) comes in
        # the first seconds of traffic. Clients that join over a race spread those out;
        # the collections in the measured part are counted and printed.
        await post_reads(base, chips, args.rate, args.warm_up, [])
    cpu_before = cpu_s(pid)
    workers_cpu_before = sum(cpu_s(process.pid or 0) for process in processes)
    sent: list[tuple[float, float, int]] = []
    run_started = time.perf_counter()
    posted = await post_reads(base, chips, args.rate, args.seconds, sent)
    await asyncio.sleep(2)  # the last frames
    elapsed = time.perf_counter() - run_started
    cpu_used = cpu_s(pid) - cpu_before
    workers_cpu = sum(cpu_s(process.pid or 0) for process in processes) - workers_cpu_before
    busy_load = load()
    stop.set()
    for _ in processes:
        sent_out.put([(t0, seq) for t0, _, seq in sent])
    reports = [await asyncio.to_thread(results.get, True, 300) for _ in processes]
    for process in processes:
        process.join(30)
    histogram = array("q", bytes(8 * len(reports[0].histogram)))
    for report in reports:
        for millis, count in enumerate(report.histogram):
            histogram[millis] += count
    samples = sum(histogram)
    print(machine_line())
    print(f"clients {args.clients} in {len(processes)} processes "
          f"({'offering' if not args.no_deflate else 'not offering'} permessage-deflate), "
          f"reads posted {posted} in {args.seconds:g} s ({posted / args.seconds:.0f}/s, "
          f"{len(sent)} posts), connecting took {connect_s:.1f} s")
    print(f"{idle_load} (clients idle); {busy_load} (after posting)")
    if samples:
        print(f"post-to-frame latency at the clients: "
              f"p50 {histogram_percentile(histogram, 0.5)} ms, "
              f"p99 {histogram_percentile(histogram, 0.99)} ms, "
              f"max {max(i for i, count in enumerate(histogram) if count)} ms "
              f"({samples} samples; {sum(report.missing for report in reports)} missing, "
              f"{sum(report.closed for report in reports)} clients closed)")
    print(f"frames per client per second: "
          f"{sum(report.frames for report in reports) / args.clients / elapsed:.2f}")
    print(f"server memory: {rss_before / 1024:.0f} MB before clients, {rss_idle / 1024:.0f} MB "
          f"with them idle: {(rss_idle - rss_before) / args.clients:.1f} KB per idle client")
    print(f"server CPU while posting: {cpu_used / elapsed * 100:.0f}% of one core; client "
          f"processes: {workers_cpu / elapsed * 100:.0f}% of one core in all")
    last_read: dict[int, float] = {}
    for report in reports:
        for seq, (_, last, _) in report.spread.items():
            last_read[seq] = max(last, last_read.get(seq, last))
    return Run(sent, last_read, run_started)


@dataclass
class Run:
    sent: list[tuple[float, float, int]]
    """Per post: when it was sent, when it was answered, its seq."""
    last_read: dict[int, float]
    """Per frame seq: when the last client read it."""
    started: float
    """When the posting started."""


def client_delay(run: Run, chunks: list[list[Any]]) -> str:
    """How long after the server last wrote a frame (its last chunk) the last client read it."""
    written: dict[int, float] = {}
    for chunk in chunks:
        if chunk[3] and chunk[1] >= run.started:
            written[int(chunk[0])] = max(chunk[2], written.get(int(chunk[0]), 0.0))
    delays = [run.last_read[seq] - at for seq, at in written.items() if seq in run.last_read]
    return f"last client's read after the server last wrote its frame: {spread_line(delays)}"


def collections_line(run: Run, collections: list[list[Any]]) -> str:
    """The server's garbage collections while posting: each stops the event loop."""
    measured = [(int(generation), ended - started) for generation, started, ended in collections
                if started >= run.started]
    full = [took for generation, took in measured if generation == 2]
    young = [took for generation, took in measured if generation < 2]
    longest = f", longest {ms(max(full))}" if full else ""
    return (f"the server's garbage collections while posting: {len(full)} full{longest}; "
            f"{len(young)} young, longest {ms(max(young, default=0))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=2000, help="reads per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--athletes", type=int, default=1000)
    parser.add_argument("--port", type=int, default=8977)
    parser.add_argument("--race", help="clients follow this race only (default: all)")
    parser.add_argument("--workers", type=int, default=2,
                        help="processes the clients are spread over (default 2)")
    parser.add_argument("--frame-interval", type=float,
                        help="the server's frame interval (default: its own)")
    parser.add_argument("--warm-up", type=float, default=3.0,
                        help="seconds of posting before the measured part (default 3)")
    parser.add_argument("--chunk", type=int,
                        help="clients the server writes to per turn of its event loop "
                             "(default: its own)")
    parser.add_argument("--save-timings", type=Path,
                        help="copy the server's own timings (commits, fan-out chunks) here")
    parser.add_argument("--share-cores", action="store_true",
                        help="server and clients on every core (default: the server on a "
                             "core of its own, clients and posting on the others)")
    parser.add_argument("--clients-preempt", action="store_true",
                        help="client processes as ordinary tasks that preempt the server when "
                             "woken (default: SCHED_BATCH, as if on other machines)")
    parser.add_argument("--no-deflate", action="store_true",
                        help="clients do not offer permessage-deflate")
    args = parser.parse_args()
    # Each client is a socket at both ends: raise the open-files limit as far as allowed
    # (the server and the client processes inherit it).
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < args.clients + 100:
        sys.exit(f"the open-files limit ({hard}) is too low for {args.clients} clients")
    with tempfile.TemporaryDirectory(prefix="gambero-bench-live-") as folder:
        event = write_event(Path(folder), args.athletes)
        with (Path(folder) / "participants.csv").open(encoding="utf-8") as table:
            chips = [row["chips"].split()[0] for row in csv.DictReader(table)]
        env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        env["GAMBERO_ADMIN_TOKEN"] = TOKEN
        stats = Path(folder) / "frames.json"
        command = [sys.executable, str(HERE / "live_server.py"), "--stats", str(stats)]
        if args.frame_interval is not None:
            command += ["--frame-interval", str(args.frame_interval)]
        if args.chunk is not None:
            command += ["--chunk", str(args.chunk)]
        command += ["--", str(event), "--port", str(args.port), "--no-readers"]
        log = (Path(folder) / "server.log").open("wb")
        cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        pin = not args.share_cores and len(cores) >= 2
        server = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=(lambda: os.sched_setaffinity(0, cores[:1])) if pin else None)
        if pin:
            # The phones are not on the server's machine: the server gets a core of its own,
            # this process and the client processes (started after this) the others.
            os.sched_setaffinity(0, cores[1:])
            print(f"cores: the server on CPU {cores[0]}; clients and posting on CPU "
                  f"{', '.join(map(str, cores[1:]))} (--share-cores: all on all)")
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            run = asyncio.run(measure(base, args.port, server.pid, args, chips))
        finally:
            server.terminate()
            server.wait(120)
            log.close()
        timings = json.loads(stats.read_text())
        if args.save_timings:
            args.save_timings.write_text(json.dumps({**timings, "started": run.started,
                                                     "sent": run.sent}))
        chunks = timings["chunks"]
        for line in server_side(run.sent, [chunk for chunk in chunks
                                           if chunk[1] >= run.started], timings["commits"]):
            print(line)
        print(client_delay(run, chunks))
        print(collections_line(run, timings["collections"]))


if __name__ == "__main__":
    main()
