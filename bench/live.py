"""Live feed benchmark: N websocket clients on loopback while reads are posted at R reads/s.

    python bench/live.py                                   # 1,000 clients, 2,000 reads/s, 20 s
    python bench/live.py --clients 5000 --seconds 30

A `gambero serve` subprocess serves a generated event (the demo's). Client processes
(`--workers`) connect the clients; each reads every frame but decodes only its sequence number.
This process posts finish reads through the ingest route in batches every 50 ms. It prints the
latency from posting a batch to each client receiving a frame that includes it (p50, p99,
max), frames per second per client, the server's memory per idle client (resident memory with
the clients connected, minus before, over N) and the server's CPU use. Clients and server
share the machine: on a small machine the clients' own CPU use is part of what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import multiprocessing
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing import Queue
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest import machine_line

from gambero.demo import write_event

SEQ = re.compile(rb'"seq":(\d+)')
TOKEN = "gmb_bench-live-admin-token"
BATCHES_PER_S = 20


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


async def client(url: str, arrivals: list[tuple[int, float]], connected: list[int]) -> None:
    async with connect(url, max_size=None, compression=None, open_timeout=120) as ws:
        await ws.recv()  # the snapshot
        connected[0] += 1
        async for message in ws:
            data = message if isinstance(message, bytes) else message[:80].encode()
            found = SEQ.search(data[:80])
            if found:
                arrivals.append((int(found.group(1)), time.perf_counter()))


def clients_process(url: str, count: int, ready: Queue[int],
                    stop: EventType, results: Queue[list[list[tuple[int, float]]]]) -> None:
    """A process with `count` clients (perf_counter is the system's monotonic clock: its
    times compare across processes)."""

    async def run() -> list[list[tuple[int, float]]]:
        arrivals: list[list[tuple[int, float]]] = [[] for _ in range(count)]
        connected = [0]
        tasks = []
        for index in range(count):
            tasks.append(asyncio.create_task(client(url, arrivals[index], connected)))
            if index % 100 == 99:
                await asyncio.sleep(0.05)
        while connected[0] < count:
            await asyncio.sleep(0.05)
        ready.put(count)
        while not stop.is_set():
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return arrivals

    results.put(asyncio.run(run()))


async def post_reads(base: str, chips: list[str], rate: int, seconds: float,
                     sent: list[tuple[float, int]]) -> int:
    rng = random.Random(7)
    per_batch = max(1, rate // BATCHES_PER_S)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    posted = 0
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        started = time.perf_counter()
        batch = 0
        while time.perf_counter() - started < seconds:
            due = started + batch / BATCHES_PER_S
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            now_ms = time.time_ns() // 1_000_000
            # A finish line: each chip read a few times in a row, as a mat does.
            reads = [{"chip": chips[(batch * per_batch + index) // 8 % len(chips)],
                      "time_ms": now_ms + index + rng.randint(0, 3)}
                     for index in range(per_batch)]
            t0 = time.perf_counter()
            answer = await http.post("/api/readers/finish-main/reads",
                                     json={"reads": reads}, headers=headers)
            sent.append((t0, int(answer.json()["seq"])))
            posted += len(reads)
            batch += 1
    return posted


async def measure(base: str, pid: int, clients: int, rate: int, seconds: float,
                  chips: list[str], race: str | None, workers: int) -> None:
    ws_url = base.replace("http://", "ws://") + "/ws/live" + (f"?race={race}" if race else "")
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        now_ms = time.time_ns() // 1_000_000
        for race, wave in (("mile", "elite"), ("mile", "open"), ("kids", None)):
            await http.post(f"/api/races/{race}/gun", json={"time_ms": now_ms - 420_000,
                                                            "wave": wave},
                            headers={"Authorization": f"Bearer {TOKEN}"})
    await asyncio.sleep(1)
    rss_before = rss_kb(pid)
    context = multiprocessing.get_context("spawn")
    ready: Queue[int] = context.Queue()
    results: Queue[list[list[tuple[int, float]]]] = context.Queue()
    stop = context.Event()
    shares = [clients // workers + (1 if index < clients % workers else 0)
              for index in range(workers)]
    connect_started = time.perf_counter()
    processes = [context.Process(target=clients_process, args=(ws_url, share, ready, stop,
                                                               results))
                 for share in shares if share]
    for process in processes:
        process.start()
    for _ in processes:
        await asyncio.to_thread(ready.get, True, 900)
    connect_s = time.perf_counter() - connect_started
    await asyncio.sleep(2)
    rss_idle = rss_kb(pid)
    cpu_before = cpu_s(pid)
    sent: list[tuple[float, int]] = []
    run_started = time.perf_counter()
    posted = await post_reads(base, chips, rate, seconds, sent)
    await asyncio.sleep(2)  # the last frames
    elapsed = time.perf_counter() - run_started
    cpu_used = cpu_s(pid) - cpu_before
    stop.set()
    arrivals = [received for _ in processes
                for received in await asyncio.to_thread(results.get, True, 300)]
    for process in processes:
        process.join(30)
    latencies: list[float] = []
    frames = 0
    for received in arrivals:
        frames += len(received)
        position = 0
        for t0, seq in sent:
            while position < len(received) and received[position][0] < seq:
                position += 1
            if position < len(received):
                latencies.append(received[position][1] - t0)
    print(machine_line())
    print(f"clients {clients}, reads posted {posted} in {seconds:g} s "
          f"({posted / seconds:.0f}/s, {len(sent)} posts), connecting took {connect_s:.1f} s")
    if latencies:
        print(f"post-to-frame latency: p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
              f"max {max(latencies) * 1000:.0f} ms ({len(latencies)} samples; "
              f"{len(sent) * clients - len(latencies)} missing)")
    print(f"frames per client per second: {frames / clients / elapsed:.2f}")
    print(f"server memory: {rss_before / 1024:.0f} MB before clients, {rss_idle / 1024:.0f} MB "
          f"with them idle: {(rss_idle - rss_before) / clients:.1f} KB per idle client")
    print(f"server CPU while posting: {cpu_used / elapsed * 100:.0f}% of one core")


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
    args = parser.parse_args()
    # Each client is a socket at both ends: raise the open-files limit as far as allowed
    # (the server inherits it).
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
        log = (Path(folder) / "server.log").open("wb")
        server = subprocess.Popen([sys.executable, "-m", "gambero", "serve", str(event),
                                   "--port", str(args.port)], env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            asyncio.run(measure(base, server.pid, args.clients, args.rate, args.seconds,
                                chips, args.race, args.workers))
        finally:
            server.terminate()
            server.wait(15)
            log.close()


if __name__ == "__main__":
    main()
