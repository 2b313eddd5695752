"""Upload a 50 MB CSV: time, and the growth of the server's peak RSS (must stay far below
the file size, since the body is streamed to disk in chunks)."""

from __future__ import annotations

import time

from api_common import MemorySampler, Server, mb, write_linear_table

TARGET_BYTES = 50 * 1024 * 1024


def main() -> None:
    with Server(MAX_UPLOAD_MB="60") as server:
        path = server.tmp / "big.csv"
        rows = 100_000
        write_linear_table(path, rows=rows)
        rows = int(rows * TARGET_BYTES / path.stat().st_size)
        write_linear_table(path, rows=rows)
        size = path.stat().st_size
        small = server.tmp / "small.csv"
        write_linear_table(small)
        server.upload(small)  # warm-up: the first preview imports pandas into the server
        sampler = MemorySampler(server.pid)
        baseline = sampler.rss()
        sampler.start()
        started = time.perf_counter()
        info = server.upload(path)
        elapsed = time.perf_counter() - started
        peak = sampler.stop()
    print(f"file: {mb(size)} ({rows} rows), stored size {mb(info['size'])}")
    print(f"upload time: {elapsed:.2f} s ({size / elapsed / 1024 / 1024:.0f} MB/s)")
    print(
        f"server RSS: baseline {mb(baseline)}, peak {mb(peak)}, growth {mb(peak - baseline)}"
        f" ({(peak - baseline) / size:.1%} of the file)"
    )


if __name__ == "__main__":
    main()
