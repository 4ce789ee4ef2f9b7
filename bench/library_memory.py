"""Memory of the server libraries: a bot process with N imported server stories in its database.

Each figure is taken in a fresh process (resident set size, from /proc/self/status):
- base: the bot's modules, the database open and the bundled stories loaded;
- rows: + the light rows of every server story (what /story list and autocomplete read; what the
  bot holds at start-up);
- in use: + K stories loaded and held, as K sessions playing them would;
- churn: + every story loaded once and let go (sessions and /ask calls in every server over
  time): what stays is the default cache bound (Limits.cache_bytes);
- all loaded: + every story loaded and kept (what each process held before stories were loaded
  on demand: its start-up read them all).

Run: .venv/bin/python bench/library_memory.py [N stories] [KB per story] [K in use]
Prints figures (not pass/fail). Target: memory does not grow with N (rows stay a few MB).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_speed import build_novel  # noqa: E402

from bot.server_library import Limits, ServerLibrary, StoryInfo, footprint, story_key  # noqa: E402
from bot.store import Database  # noqa: E402
from bot.store.library import LibraryStore, StoredStory  # noqa: E402
from bot.story.library import load_library  # noqa: E402
from bot.story.packed import import_packed  # noqa: E402

GUILDS = 8  # the stories are spread over this many servers


def rss_mb() -> tuple[float, float]:
    """(resident now, peak) in MB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def build(db_path: Path, n: int, kb: int) -> tuple[int, int]:
    """N stories (one generated text of `kb` KB, stored under N names, as N imports would)."""
    text, _ = build_novel(kb * 1000)
    packed, loaded, _ = import_packed(text.encode(), file_name="story.txt", slug="story")
    meta = StoryInfo.of(loaded.story, slug="story", include_notes=loaded.include_notes).to_json()
    async with await Database.open(db_path) as db:
        await db.migrate()
        store = LibraryStore(db)
        for i in range(n):
            slug = f"story-{i}"
            row = StoredStory(guild_id=1000 + i % GUILDS, slug=slug, title=f"Story {i}",
                              source_name=packed.source_name, source=packed.source, story_toml=packed.story_toml,
                              script=packed.script, import_record="{}", imported_by=1, revision=1,
                              meta=meta.replace('"title":"', f'"title":"Story {i} ', 1))
            await store.save(row, new=True)
    return len(loaded.story), len(packed.source)


async def measure(db_path: Path, mode: str, n: int, in_use: int) -> dict[str, float]:
    async with await Database.open(db_path) as db:
        bundled = load_library(ROOT / "story_data")
        unbounded = Limits(cache_bytes=10**12)
        lib = ServerLibrary(bundled, LibraryStore(db), limits=unbounded if mode == "all" else Limits())
        out: dict[str, float] = {}
        if mode != "base":
            t0 = time.perf_counter()
            await lib.refresh()
            out["refresh_s"] = time.perf_counter() - t0
        keep = []  # what sessions would hold
        if mode in ("use", "all", "churn"):
            count = in_use if mode == "use" else n
            t0 = time.perf_counter()
            for i in range(count):
                story = await lib.load(story_key(1000 + i % GUILDS, f"story-{i}"))
                assert story is not None
                if mode != "churn":
                    keep.append(story)
            del story
            out["load_s"] = time.perf_counter() - t0
            out["cached"] = len(lib.cached())
            entry = await lib.entry(1000, "story-0")
            assert entry is not None
            out["estimate_mb"] = footprint(entry) / 1e6
        out["visible"] = sum(len(lib.visible(1000 + g)) for g in range(GUILDS))
        out["rss"], out["peak"] = rss_mb()
        return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        _, _, db, mode, n, k = sys.argv
        print(json.dumps(asyncio.run(measure(Path(db), mode, int(n), int(k)))))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    kb = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    in_use = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "narrator.sqlite3"
        beats, size = asyncio.run(build(db, n, kb))
        print(f"{n} server stories of {size / 1000:.0f} KB ({beats} beats) each, over {GUILDS} servers; "
              f"database {db.stat().st_size / 1e6:.0f} MB")
        figures = {}
        for mode in ("base", "rows", "use", "churn", "all"):
            done = subprocess.run([sys.executable, __file__, "--measure", str(db), mode, str(n), str(in_use)],
                                  check=True, capture_output=True, text=True)
            figures[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    base = figures["base"]["rss"]
    names = {"base": "base (bot + bundled stories)", "rows": f"rows of all {n} (start-up now)",
             "use": f"{in_use} stories in use", "churn": f"all {n} loaded one by one",
             "all": f"all {n} loaded (start-up before)"}
    for mode, f in figures.items():
        extra = ""
        if "refresh_s" in f:
            extra += f", refresh {f['refresh_s'] * 1000:.0f} ms"
        if "load_s" in f:
            extra += f", loading {f['load_s']:.2f} s ({int(f['cached'])} in the cache)"
        print(f"{names[mode]:<34} RSS {f['rss']:7.1f} MB (+{f['rss'] - base:6.1f}), peak {f['peak']:7.1f} MB{extra}")
    per = (figures["all"]["rss"] - figures["rows"]["rss"]) / n
    print(f"one loaded story: {per:.2f} MB measured (RSS), {figures['all']['estimate_mb']:.2f} MB as the cache counts it "
          f"(default bound {Limits().cache_bytes / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
