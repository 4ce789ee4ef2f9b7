"""/story import figures: a generated EPUB of ~1 MB imported into a server's library as the bot
does it (read + segment + validate in a worker thread, stored in SQLite), while a ticker on the
event loop measures how late it runs — the bot must stay responsive during an import.

Run: .venv/bin/python bench/import_discord.py [MB]
Prints figures (not pass/fail). Target: the event loop is never late by more than ~50 ms.
"""

from __future__ import annotations

import asyncio
import html
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_speed import build_novel  # noqa: E402

from bot.server_library import Limits, ServerLibrary  # noqa: E402
from bot.store import Database  # noqa: E402
from bot.store.library import LibraryStore  # noqa: E402
from bot.story.library import Library  # noqa: E402
from tests.story.epubs import build_epub  # noqa: E402


def novel_epub(mb: float) -> tuple[bytes, int]:
    text, _ = build_novel(int(mb * 1_000_000))
    paras = [p.strip() for p in text.split("\n\n") if p.strip()]
    chapters = []
    per = max(1, len(paras) // 40)
    for n in range(0, len(paras), per):
        body = "".join(f"<p>{html.escape(p)}</p>" for p in paras[n:n + per])
        chapters.append((f"chapter{len(chapters) + 1}", f"Chapter {len(chapters) + 1}", body))
    return build_epub(chapters, title="Bench Novel"), len(chapters)


async def main(mb: float) -> None:
    data, chapters = novel_epub(mb)
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        step = 0.01
        while not done.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(step)
            lags.append(time.perf_counter() - t0 - step)

    with tempfile.TemporaryDirectory() as tmp:
        async with await Database.open(Path(tmp) / "db.sqlite3") as db:
            await db.migrate()
            lib = ServerLibrary(Library(), LibraryStore(db), limits=Limits(max_bytes=50_000_000))
            tick = asyncio.create_task(ticker())
            t0 = time.perf_counter()
            summary = await lib.import_file(1, 1, data, file_name="novel.epub")
            took = time.perf_counter() - t0
            done.set()
            await tick
            other = ServerLibrary(Library(), LibraryStore(db))
            t1 = time.perf_counter()
            await other.refresh()
            await other.load(summary.key)
            reload = time.perf_counter() - t1
            t2 = time.perf_counter()
            await lib.set_speaker(1, summary.slug, next(b.index for b in lib.get(summary.key).beats  # type: ignore[union-attr]
                                                        if b.kind == "dialogue"), None)
            fix = time.perf_counter() - t2
    lags.sort()
    print(f"EPUB {len(data) / 1e6:.2f} MB zipped, {chapters} chapters -> {summary.scenes} scenes, {summary.beats} beats, "
          f"{len(summary.cast)} cast found, {summary.to_review} lines to review")
    print(f"import (read + segment + validate + store): {took:.2f} s")
    print(f"event loop lateness during the import: p50 {statistics.median(lags) * 1e3:.1f} ms, "
          f"p99 {lags[int(len(lags) * 0.99) - 1] * 1e3:.1f} ms, max {lags[-1] * 1e3:.1f} ms ({len(lags)} ticks)")
    print(f"another process loading it from the database: {reload:.2f} s; one review fix saved: {fix:.2f} s")


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0))
