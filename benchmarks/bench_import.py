"""Import benchmark (CPU): ``codecfake import release`` on a synthetic 10k-row release look-alike, with one
and two processes, next to the plain ``datasets`` route that makes the same configs.

The look-alike (:func:`dataset_builder.corpora.lookalike.release_rows`): 15 codec names, one unknown name
and ``genuine``, 10 speakers (the release's validation and test speakers among them), clips of
``--seconds`` at each codec's rate as 16-bit WAV, written as ``--shards`` parquet shards. Each route runs
as a fresh process (tree) on a new output folder, ``--repeats`` times (median wall time; peak RSS: the
largest sum over the process tree, sampled every 20 ms):

- ``codecfake import release SNAPSHOT --out DIR`` (``python -m dataset_builder``), one process;
- ``accelerate launch --multi_gpu --num_processes 2 -m dataset_builder import ...`` on CPU processes;
- the plain route: ``load_dataset("parquet", data_files=...)`` (which first copies the shards into its
  Arrow cache), the config, split and integer label of each row added with ``add_column`` (computed
  from the small columns, so the audio is not rewritten), then per config and split a ``filter`` and
  ``to_parquet``. It writes the same rows per config and split without any of the
  import's checks, ids, taxonomy, fingerprints or card; its Arrow cache (a second copy of the input) is
  reported as extra disk.

Prints a markdown table: wall seconds, CPU seconds (all processes), rows/s, MB/s (input parquet bytes /
wall), peak RSS, extra disk.
From the repository root: ``PYTHONPATH=. python benchmarks/bench_import.py [--rows 10000]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parents[1]
SPEAKERS = ("p225", "p226", "p227", "p228", "p229", "p230", "p231", "p232", "p233", "s5")


def make_snapshot(root: Path, rows: int, shards: int, seconds: tuple[float, float]) -> Path:
    """A release look-alike of about ``rows`` rows (17 codec names x 10 speakers x N utterances)."""
    from dataset_builder.corpora.lookalike import release_rows, write_release

    per_speaker = -(-rows // (17 * len(SPEAKERS)))
    return write_release(root, release_rows(SPEAKERS, per_speaker, seconds=seconds), shards)


def plain_route(snapshot: Path, out: Path) -> None:
    """The same configs and splits with ``datasets`` alone (module docstring)."""
    import datasets

    from dataset_builder.corpora.release import CODEC_NAMES
    from dataset_builder.corpora.vctk import split_of

    files = sorted(str(path) for path in snapshot.glob("data/*.parquet"))
    dataset = datasets.load_dataset("parquet", data_files=files, split="train")

    # the routing columns from the small columns alone (add_column: no rewrite of the audio)
    configs = [
        "bonafide" if name == "genuine" else CODEC_NAMES.get(name, name) for name in dataset["codec_name"]
    ]
    dataset = dataset.add_column("config", configs).add_column(
        "split", [split_of(s) for s in dataset["speaker_id"]]
    )
    labels = [int(label == "genuine") for label in dataset["label"]]
    dataset = dataset.remove_columns("label").add_column("label", labels)

    def selected(config: str, split: str, wanted_config: str, wanted_split: str) -> bool:
        return config == wanted_config and split == wanted_split

    for config in sorted(set(dataset["config"])):
        for split in ("train", "validation", "test"):
            wanted = {"wanted_config": config, "wanted_split": split}
            part = dataset.filter(selected, input_columns=["config", "split"], fn_kwargs=wanted)
            if len(part):
                part.to_parquet(str(out / "data" / config / f"{split}-00000-of-00001.parquet"))


def _measure(command: list[str], environment: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MiB of the process tree) of ``command``; raises when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    root, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # every waited-for descendant's CPU time
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, peak / 2**20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--shards", type=int, default=20)
    parser.add_argument("--seconds", type=float, nargs=2, default=(1.0, 3.0), help="clip lengths drawn from")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work-dir", default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--plain-route", nargs=2, metavar=("SNAPSHOT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plain_route:  # the plain route, run in its own process by the benchmark
        plain_route(Path(args.plain_route[0]), Path(args.plain_route[1]))
        return 0

    work = Path(args.work_dir or tempfile.mkdtemp(prefix="bench_import_"))
    snapshot = make_snapshot(work / "snapshot", args.rows, args.shards, tuple(args.seconds))
    files = sorted(snapshot.glob("data/*.parquet"))
    rows = sum(pq.read_metadata(path).num_rows for path in files)
    megabytes = sum(path.stat().st_size for path in files) / 1e6
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1",
                   "ACCELERATE_USE_CPU": "1", "HF_DATASETS_CACHE": str(work / "datasets-cache")}  # fmt: skip
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
              "--main_process_port", str(_free_port()), "-m", "dataset_builder"]  # fmt: skip
    routes = {
        "`codecfake import release`, 1 process": [sys.executable, "-m", "dataset_builder"],
        "`accelerate launch --num_processes 2 -m dataset_builder import release`": launch,
        'plain `datasets`: `load_dataset("parquet")` + `add_column` + `filter` + `to_parquet`': None,
    }
    table = []
    load_before = os.getloadavg()[0]
    for name, prefix in routes.items():
        walls, cpus, peaks, extra = [], [], [], 0
        for repeat in range(args.repeats):
            out = work / f"out-{len(table)}-{repeat}"
            shutil.rmtree(work / "datasets-cache", ignore_errors=True)
            if prefix is None:
                command = [sys.executable, __file__, "--plain-route", str(snapshot), str(out)]
            else:
                command = [*prefix, "import", "release", str(snapshot), "--out", str(out)]
            wall, cpu, peak = _measure(command, environment)
            walls.append(wall)
            cpus.append(cpu)
            peaks.append(peak)
            if prefix is None:
                extra = _folder_bytes(work / "datasets-cache")
            shutil.rmtree(out)
        wall = statistics.median(walls)
        table.append(
            (name, wall, statistics.median(cpus), rows / wall, megabytes / wall, max(peaks), extra / 1e6)
        )
    shutil.rmtree(work / "datasets-cache", ignore_errors=True)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    print(f"\n{rows:,} rows, {megabytes:,.0f} MB of parquet in {len(files)} shards; {machine}, {load}; "
          f"median of {args.repeats}\n")  # fmt: skip
    print("| route | wall s | CPU s | rows/s | MB/s | peak RSS MiB (all processes) | extra disk MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, wall, cpu, rows_per_second, mb_per_second, peak, extra in table:
        speed = f"{rows_per_second:,.0f} | {mb_per_second:.1f}"
        print(f"| {name} | {wall:.1f} | {cpu:.1f} | {speed} | {peak:,.0f} | {extra:,.0f} |")
    if not args.work_dir:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
