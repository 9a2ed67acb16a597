"""The commit's primary-key check against a long history of random keys (UUIDs).

Keys that grow over time (ids carrying a date) let a commit skip every earlier partition
by its recorded key range; random keys meet every range, so each earlier partition's key
column is read. This measures that worst case: ``--partitions`` earlier partitions of
``--rows`` random UUIDs each, and a new file of ``--rows`` UUIDs of which ``--repeats``
are already in the history (spread over it), so the file is refused naming them.

- check: ``tasks.io.dataset_keys.resolve_keys``, as the commit calls it (each partition
  read from the store and checked against its sha256), on partitions never read for keys
  before: it also stores each one's hashed keys (tasks/core/ingest/key_index.py);
- next: the next day's commit, a file of ``--rows`` new UUIDs none of which the history
  holds (the common day), against the same partitions as the manifest now names them
  (indexed): only their hashed keys are read;
- bare: the same partitions' key columns read with ``pyarrow.parquet.read_table`` one after
  the other and matched with ``pyarrow.compute.is_in`` against the new keys.

Each side runs in its own child process, one after the other, for its peak RSS (VmHWM) and
its RSS after imports.

Usage: .venv/bin/python benchmarks/bench_keys.py [--partitions 20] [--rows 1000000]
       [--repeats 1000] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=20, help="earlier partitions")
    parser.add_argument("--rows", type=int, default=1_000_000, help="keys per partition")
    parser.add_argument("--repeats", type=int, default=1000, help="new keys already held")
    parser.add_argument("--json", action="store_true", help="print one line of JSON")
    parser.add_argument("--child", choices=["check", "next", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.home)))
        return
    home = Path(tempfile.mkdtemp(prefix="retrain-bench-keys-"))
    try:
        report = _measure(args, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(report, indent=None if args.json else 1))


def _measure(args: argparse.Namespace, home: Path) -> dict[str, Any]:
    start = time.perf_counter()
    _make_history(home, args.partitions, args.rows, args.repeats)
    made = time.perf_counter() - start
    check, bare = _in_child("check", home), _in_child("bare", home)
    assert check["repeats"] == bare["repeats"] == args.repeats, (check, bare)
    after = _in_child("next", home)
    assert after["repeats"] == 0, after
    return {
        "earlier_partitions": args.partitions,
        "keys_per_partition": args.rows,
        "repeated_keys": args.repeats,
        "history_made_s": round(made, 1),
        "check_s": check["s"],
        "bare_s": bare["s"],
        "ratio": round(check["s"] / bare["s"], 2),
        "next_s": after["s"],
        "next_ratio": round(after["s"] / bare["s"], 2),
        "check_peak_mb": check["peak_mb"],
        "next_peak_mb": after["peak_mb"],
        "bare_peak_mb": bare["peak_mb"],
        "after_imports_mb": {
            "check": check["after_imports_mb"],
            "next": after["after_imports_mb"],
            "bare": bare["after_imports_mb"],
        },
        "load": os.getloadavg(),
    }


def _uuids(count: int, seed: int) -> Any:
    """``count`` random UUID strings (version bits left random) as an Arrow array."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    raw = np.random.default_rng(seed).integers(0, 256, size=count * 16, dtype=np.uint8)
    hexed = pa.array(np.frombuffer(raw.tobytes().hex().encode(), dtype="S32")).cast(pa.string())
    cuts = [(0, 8), (8, 12), (12, 16), (16, 20), (20, 32)]
    parts = [pc.utf8_slice_codeunits(hexed, a, b) for a, b in cuts]
    return pc.binary_join_element_wise(*parts, "-")


def _make_history(home: Path, partitions: int, rows: int, repeats: int) -> None:
    """Earlier partitions and the new file's partition, written through the store; their
    descriptions (as the manifest and the new file's outcome hold them) in parts.json."""
    os.environ["RETRAIN_HOME"] = str(home)
    sys.path.insert(0, str(ROOT))
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from schemas.settings import load_settings
    from tasks.io.runtime import runtime
    from tasks.io.stores import sha256_hex

    store = runtime(load_settings()).store

    def put(day: int, keys: Any) -> dict[str, Any]:
        buf = io.BytesIO()
        pq.write_table(pa.table({"transaction_id": keys}), buf, compression="zstd")
        body = buf.getvalue()
        sha = sha256_hex(body)
        key = f"curated/transactions/date=2026-01-{day:02d}/{sha}.parquet"
        store.put_bytes(key, body)
        date, source = f"2026-01-{day:02d}", f"file:///landing/transactions-{day}.csv"
        return {"key": key, "sha256": sha, "rows": len(keys), "date": date, "source_uri": source}

    earlier = [_uuids(rows, seed) for seed in range(partitions)]
    olds = [put(1 + i % 28, keys) for i, keys in enumerate(earlier)]
    picks = np.random.default_rng(99).choice(partitions * rows, size=repeats, replace=False)
    held = [earlier[int(p) // rows][int(p) % rows].as_py() for p in np.sort(picks)]
    fresh = _uuids(rows - repeats, partitions + 1).to_pylist()
    new = put(28, pa.array(held + fresh, pa.string()))
    later = put(27, _uuids(rows, partitions + 2))  # the next day: no key repeated
    (home / "parts.json").write_text(json.dumps({"olds": olds, "new": new, "next": later}))


def _child(kind: str, home: Path) -> dict[str, Any]:
    os.environ["RETRAIN_HOME"] = str(home)
    sys.path.insert(0, str(ROOT))
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from schemas.contracts import load_contract
    from schemas.settings import load_settings
    from tasks.core.ingest.landing import FileOutcome
    from tasks.core.ingest.manifests import Partition
    from tasks.io.dataset_keys import resolve_keys

    parts = json.loads((home / "parts.json").read_text())
    after_imports = _rss_mb("VmRSS")
    start = time.perf_counter()
    if kind in ("check", "next"):
        new = Partition(**parts["new" if kind == "check" else "next"])
        file = FileOutcome("new.csv", "file:///new.csv", "x", 1, "accepted", partitions=[new])
        contract, settings = load_contract("transactions"), load_settings()
        olds = parts["olds"] if kind == "check" else parts["indexed"]
        _kept, clashes, swaps, _ = resolve_keys(contract, {"partitions": olds}, [file], settings)
        repeats = sum(c.count for _, c in clashes)
        if kind == "check":  # the manifest the commit would write names each one's index
            parts["indexed"] = [asdict(swaps[p["key"]]) if p["key"] in swaps else p for p in olds]
    else:
        store = home / "store"
        wanted = pq.read_table(store / parts["new"]["key"])["transaction_id"]
        repeats = 0
        for part in parts["olds"]:
            keys = pq.read_table(store / part["key"], columns=["transaction_id"])
            repeats += pc.sum(pc.is_in(keys["transaction_id"], value_set=wanted)).as_py() or 0
    seconds = time.perf_counter() - start
    (home / "parts.json").write_text(json.dumps(parts))
    return {
        "s": round(seconds, 2), "repeats": repeats,
        "after_imports_mb": after_imports, "peak_mb": _rss_mb("VmHWM"),
    }  # fmt: skip


def _rss_mb(field: str) -> int:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith(f"{field}:"))
    return round(int(line.split()[1]) / 1024)


def _in_child(kind: str, home: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, "--home", str(home)]
    run = subprocess.run(cmd, check=True, capture_output=True, text=True)  # noqa: S603
    child: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return child


if __name__ == "__main__":
    main()
