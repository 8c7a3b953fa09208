"""Generation of the CodecFake subsets: a speech corpus (VCTK by default) -> codec resynthesis with
``datasets.map`` -> parquet shards.

Data flow, top to bottom:

1. The corpus's module lists the utterances and their split (:func:`prepare_source`): the ``prepare`` of
   the row of :data:`dataset_builder.corpora.SOURCE_KINDS` that ``--source KIND:LOCATION`` names
   (``vctk``, ``audiofolder``, ``hf``).
2. :func:`~dataset_builder.source_check.run_source_check` decodes every source file once (a batched ``map``, cached) and splits the
   manifest into readable utterances and excluded ones (empty, corrupt, NaN/inf), which every config
   then leaves out alike and the build report lists.
3. :func:`plan_shards` cuts each split into shards of ``shard_size`` utterances.
4. For ``bonafide`` and each subset, every shard is one ``Dataset.map(batched=True, with_rank=True)``
   of the pure function :func:`make_examples` (``num_proc`` processes, rank ``r`` on ``cuda:r``), cached
   under a fingerprint of the shard's sources and the codec, then written to
   ``data/<subset>/<split>-NNNNN-of-MMMMM.parquet`` through a temporary file and an atomic rename.

Under ``accelerate launch -m codecfake_cli build`` step 4 is shared out: shard ``i`` of the plan to
global rank ``i mod world size`` (:mod:`dataset_builder.build_processes`); the main process runs steps
1-2 first and writes the card and report once every process is done.

Resume: a shard whose parquet file carries the expected fingerprint is skipped; a killed run leaves
at worst a temporary file (:mod:`codecfake_hf.files.atomic_files`) or a partial ``map`` cache, both discarded
on the next run, so every utterance ends up exactly once per subset. A step that fails (a full disk,
an error, Ctrl-C) removes what it was writing: its temporary file and its ``map`` scratch folder under
``<out>/.build``. Audio is stored as 16-bit FLAC bytes
(:func:`codecfake_hf.audio.audio_io.encode_audio`, clamped to +-0.99): bona fide at the source rate (48 kHz
for VCTK), spoof at the codec's own rate.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import torch
from tqdm.auto import tqdm

from codecfake_hf.audio.audio_io import AudioError, encode_audio, load_audio, validate_waveform
from codecfake_hf.codecs.registry import (
    CODECS,
    family_module,
    fetch_checkpoint,
    get_spec,
    load_codec,
)
from codecfake_hf.data.labels import BONAFIDE, BONAFIDE_CONFIG, SPOOF
from codecfake_hf.data.mixtures import parse_mixture
from codecfake_hf.files.atomic_files import remove_leftovers
from dataset_builder import DatasetBuildError
from dataset_builder.build_cache import BUILD_VERSION, cache_key, removed_on_failure
from dataset_builder.build_options import BuildOptions
from dataset_builder.build_processes import BuildProcesses, rank_device
from dataset_builder.build_report import BuildReport, read_build_report, write_build_report
from dataset_builder.corpora import SOURCE_KINDS, corpus_module
from dataset_builder.corpus import SPLITS, Manifest
from dataset_builder.mixture_configs import merged_mixtures, recorded_mixtures, resolved_mixtures
from dataset_builder.output_folder import check_output_folder, disk_full_is_a_build_error, earlier_report
from dataset_builder.publishing import write_card
from dataset_builder.shard_files import (
    FEATURES,
    ROW_GROUP_SIZE,
    open_shard,
    shard_filename,
    shard_is_done,
    shard_rows,
    taxonomy_values,
)
from dataset_builder.source_check import SourceCheck, run_source_check
from dataset_builder.source_options import SourceOptions


@dataclass(frozen=True)
class Shard:
    """``rows`` (dicts with speaker_id, utterance_id, path, text, source) of one output file."""

    split: str
    index: int
    count: int
    rows: tuple[dict, ...]

    @property
    def filename(self) -> str:
        return shard_filename(self.split, self.index, self.count)


@functools.lru_cache(maxsize=1)
def _codec(subset: str, tiny: bool, device: str, local_dir: str | None, revision: str | None):
    """The codec of the current worker process, loaded once per (codec, device)."""
    return load_codec(subset, tiny=tiny, device=device, local_dir=local_dir, revision=revision)


def make_examples(
    batch: dict[str, list],
    rank: int | None = None,
    *,
    subset: str,
    tiny: bool,
    device: str,
    batch_size: int,
    threads: int | None = None,
    local_dir: str | None = None,
    revision: str | None = None,
) -> dict[str, list]:
    """Batched ``map`` function: the CodecFake examples of a batch of source rows.

    Args:
        batch: columns speaker_id, utterance_id, path, text.
        rank: ``map`` worker rank (selects the GPU).
        subset: a CodecFake subset id ("E", ...; the registry's codec id) or ``"bonafide"`` (the source
            audio itself).
        threads: torch threads for this process (:meth:`BuildOptions.threads_per_process`).
        local_dir: folder of the codec's checkpoint files (None: the Hub cache).
        revision: Hub revision of the codec's weights (None: the registry's pin).

    Returns:
        Columns audio (``{"bytes": FLAC, "path"}``), label (0 spoof / 1 bona fide), codec and the
        taxonomy columns (:func:`taxonomy_values`).
    """
    if threads is not None:
        torch.set_num_threads(threads)
    sources = [load_audio(path) for path in batch["path"]]
    if subset == BONAFIDE_CONFIG:
        outputs = sources
    else:
        codec = _codec(subset, tiny, rank_device(device, rank), local_dir, revision)
        outputs = _resynthesize(codec, subset, sources, batch["utterance_id"], batch_size)
    label = BONAFIDE if subset == BONAFIDE_CONFIG else SPOOF
    return {
        "audio": [
            {"bytes": encode_audio(waveform, rate), "path": f"{subset}/{utterance}.flac"}
            for (waveform, rate), utterance in zip(outputs, batch["utterance_id"])
        ],
        "label": [label] * len(outputs),
        "codec": [subset] * len(outputs),
        **{name: [value] * len(outputs) for name, value in taxonomy_values(subset).items()},
    }


def _resynthesize(codec, subset: str, sources: list, utterance_ids: Sequence[str], batch_size: int) -> list:
    """Run ``codec`` on ``[(waveform, rate)]`` (grouped by rate); a failure names the utterance."""
    outputs: list = [None] * len(sources)
    for rate in sorted({rate for _, rate in sources}):
        indices = [i for i, (_, r) in enumerate(sources) if r == rate]
        try:
            results = codec.resynthesize([sources[i][0] for i in indices], rate, batch_size)
        except Exception:  # find which utterance breaks the codec, one at a time
            results = [_resynthesize_one(codec, subset, sources[i], utterance_ids[i]) for i in indices]
        for i, result in zip(indices, results):
            outputs[i] = (_checked(result, subset, utterance_ids[i]), codec.sampling_rate)
    return outputs


def _resynthesize_one(codec, subset: str, source: tuple, utterance_id: str) -> np.ndarray:
    try:
        return codec.resynthesize([source[0]], source[1], 1)[0]
    except Exception as error:
        raise DatasetBuildError(
            f"codec {subset} failed on utterance {utterance_id}: {type(error).__name__}: {error}"
        ) from error


def _checked(output: np.ndarray, subset: str, utterance_id: str) -> np.ndarray:
    try:
        return validate_waveform(output, f"codec {subset} output for utterance {utterance_id}")
    except AudioError as error:
        raise DatasetBuildError(str(error)) from None


def codec_fingerprint(subset: str, tiny: bool, revision: str | None = None) -> dict:
    """What identifies a codec's output: its spec (weights, rate, processing), the tiny flag and the Hub
    revision its weights were downloaded at (:meth:`BuildOptions.weights_revision`; left out when None,
    so unpinned, tiny and ``--checkpoint-dir`` codecs keep their fingerprints)."""
    if subset == BONAFIDE_CONFIG:
        return {"codec": BONAFIDE_CONFIG}
    spec = get_spec(subset)
    revised = {"revision": revision} if revision is not None else {}
    return {
        "codec": spec.id,
        "repo": spec.repo_id,
        "model": spec.model_name,
        "rate": spec.sampling_rate,
        "n_q": spec.n_quantizers,
        "peak": spec.input_peak,
        "options": spec.options,
        "tiny": tiny,
        **revised,
    }


def shard_fingerprint(shard: Shard, subset: str, options: BuildOptions) -> str:
    """Fingerprint of one output shard (build version, codec and its weights, the shard's sources)."""
    sources = [(row["utterance_id"], row["path"], row["source"]) for row in shard.rows]
    revision = None if subset == BONAFIDE_CONFIG else options.weights_revision(subset)
    codec = codec_fingerprint(subset, options.tiny, revision)
    return cache_key([BUILD_VERSION, codec, shard.split, shard.filename, sources])


def plan_shards(rows: Sequence[dict], shard_size: int) -> list[Shard]:
    """Cut the rows of each split (in utterance order) into shards of at most ``shard_size``."""
    shards = []
    for split in SPLITS:
        split_rows = [r for r in rows if r["split"] == split]
        count = max(1, -(-len(split_rows) // shard_size))
        for index in range(count):
            chunk = split_rows[index * shard_size : (index + 1) * shard_size]
            keep = ("speaker_id", "utterance_id", "path", "text", "source")
            shards.append(Shard(split, index, count, tuple({k: r[k] for k in keep} for r in chunk)))
    return shards


def check_planned_shards(
    out: Path, plan: Sequence[tuple[str, Shard]], options: BuildOptions, processes: BuildProcesses
) -> None:
    """Before anything is published: every shard of the build's ``plan`` (``(subset, shard)``, the order
    that shared the work out) is in ``out`` with its planned rows. A launched build whose ``--out`` is not
    one folder for all processes (a local path on each machine) leaves the others' shards elsewhere.

    Raises:
        DatasetBuildError: one line naming the missing shards and the processes that had them to write.
    """
    missing = [
        (index % processes.world, f"data/{subset}/{shard.filename}")
        for index, (subset, shard) in enumerate(plan)
        if shard_rows(out / "data" / subset / shard.filename, shard_fingerprint(shard, subset, options))
        != len(shard.rows)
    ]
    if not missing:
        return
    listed = ", ".join(name for _, name in missing[:8]) + (
        f" and {len(missing) - 8} more" if len(missing) > 8 else ""
    )
    if processes.world > 1:
        ranks = ", ".join(str(rank) for rank in sorted({rank for rank, _ in missing}))
        why = (
            f" (process(es) {ranks} of {processes.world} had them to write); --out must be one folder that every "
            "process of the launch reads and writes (the same path on a shared file system), not a local "
            "folder per machine; relaunch with a shared --out"
        )
    else:
        why = "; run the build again to write them"
    raise DatasetBuildError(
        f"{out}: {len(missing)} of the build's {len(plan)} planned shards are missing or incomplete ({listed}); "
        f"no card or build_report.json was written{why}"
    )


def build_shards(
    subset: str,
    shards: Sequence[Shard],
    out: Path,
    cache_dir: Path,
    options: BuildOptions,
    show_progress: bool = True,
) -> None:
    """Write ``subset``'s ``shards`` into ``out/data/<subset>/``, skipping those already done."""
    folder = out / "data" / subset
    for shard in tqdm(shards, desc=f"config {subset}", unit="shard", disable=not show_progress):
        path = folder / shard.filename
        fingerprint = shard_fingerprint(shard, subset, options)
        if shard_is_done(path, fingerprint) or not shard.rows:
            continue
        rows = [{k: r[k] for k in ("speaker_id", "utterance_id", "path", "text")} for r in shard.rows]
        scratch = cache_dir / subset / f"{shard.split}-{shard.index:05d}-{fingerprint}"
        with removed_on_failure(scratch):
            dataset = datasets.Dataset.from_list(rows).map(
                make_examples,
                batched=True,
                batch_size=4 * options.batch_size,
                with_rank=True,
                num_proc=options.map_num_proc(len(rows)),
                fn_kwargs={
                    "subset": subset,
                    "tiny": options.tiny,
                    "device": options.device,
                    "batch_size": options.batch_size,
                    "threads": options.threads_per_process(),
                    "local_dir": options.codec_dir(subset),
                    "revision": None if subset == BONAFIDE_CONFIG else options.weights_revision(subset),
                },
                remove_columns=["path"],
                features=FEATURES,
                writer_batch_size=options.writer_batch_size,
                cache_file_name=str(scratch / "examples.arrow"),
                new_fingerprint=fingerprint,
                desc=f"{subset} {shard.filename}",
            )
            with open_shard(path, FEATURES, fingerprint) as writer:
                for batch in dataset.select_columns(list(FEATURES)).data.table.to_batches(ROW_GROUP_SIZE):
                    writer.write(pa.Table.from_batches([batch]))
        shutil.rmtree(scratch)


def tidy_subset(subset: str, shards: Sequence[Shard], out: Path, cache_dir: Path) -> None:
    """Once every process has written its shards of ``subset``: remove the ``map`` scratch that killed
    runs left under ``cache_dir/<subset>``, the shards of an earlier build with another plan and the
    temporary shard files of killed runs (:func:`~codecfake_hf.files.atomic_files.remove_leftovers`)."""
    shutil.rmtree(cache_dir / subset, ignore_errors=True)
    folder = out / "data" / subset
    planned = {folder / shard.filename for shard in shards if shard.rows}
    for stale in [*folder.glob("*.parquet"), *folder.glob("*.parquet.tmp")]:  # .tmp: of earlier versions
        if stale not in planned:
            stale.unlink()
    remove_leftovers(folder)


def check_checkpoints(subsets: Sequence[str], options: BuildOptions) -> None:
    """Find (or download) every codec's checkpoint files before any audio is processed, so that a
    missing one stops the build at once instead of after the bona fide pass.

    Raises:
        DatasetBuildError: one line naming each unavailable codec and the commands that fetch it.
    """
    from huggingface_hub import is_offline_mode

    from codecfake_hf.files.hub_io import CheckpointUnavailableError

    if options.tiny:
        return
    unavailable, first_error = [], None
    for subset in subsets:
        spec = replace(get_spec(subset), revision=options.weights_revision(subset))
        try:
            fetch_checkpoint(spec, local_dir=options.codec_dir(spec.id))
        except CheckpointUnavailableError as error:
            unavailable.append(spec)
            first_error = first_error or str(error).splitlines()[0]
    if not unavailable:
        return
    if options.checkpoint_dir is not None:
        where = f"missing from --checkpoint-dir {options.checkpoint_dir}"
    elif is_offline_mode():
        where = "not in the Hub cache and HF_HUB_OFFLINE is set"
    else:
        where = f"not in the Hub cache and not downloadable ({first_error})"
    files_by_repo: dict[tuple, dict[str, None]] = {}  # B1-B3 share a repo; keep each file once, in order
    for spec in unavailable:
        files_by_repo.setdefault((spec.repo_id, spec.revision), {}).update(dict.fromkeys(spec.files))
    commands = "; ".join(
        f"`hf download {repo} {' '.join(files)}" + (f" --revision {revision}`" if revision else "`")
        for (repo, revision), files in files_by_repo.items()
    )
    listed = ", ".join(f"{spec.id} ({spec.repo_id}: {' '.join(spec.files)})" for spec in unavailable)
    raise DatasetBuildError(
        f"checkpoint files {where} for codec {listed}; nothing was built. Fetch them into the cache on a "
        f"machine with network access: {commands}; or put each codec's files in DIR/<id>/ and pass "
        "--checkpoint-dir DIR; or pass --tiny for tiny random-weight codecs (a smoke test)"
    )


def complete_configs(out: Path, shards: Sequence[Shard], options: BuildOptions) -> list[str]:
    """Configs under ``out/data`` whose every shard matches the current plan (earlier builds into
    the same folder count, so configs can be added one run at a time)."""
    found = []
    for folder in sorted(p for p in (out / "data").glob("*") if p.is_dir()):
        subset = folder.name
        if subset != BONAFIDE_CONFIG:
            try:
                subset = get_spec(subset).id
            except KeyError:
                continue
        if all(
            shard_is_done(folder / s.filename, shard_fingerprint(s, subset, options))
            for s in shards
            if s.rows
        ):
            found.append(subset)
    order = [BONAFIDE_CONFIG, *CODECS]
    return sorted(found, key=lambda c: order.index(c) if c in order else len(order))


def bound_cpu_caches() -> None:
    """Keep a long CPU build's memory flat. Every padded batch has a new length, and oneDNN caches
    one convolution primitive per shape (1,024 by default), while glibc keeps large freed buffers
    mapped; capping the first and fixing the mmap threshold of the second holds peak RSS level as
    the corpus grows (``benchmarks/RESULTS.md``, "Dataset build"). Must run before the process's first
    convolution; a value the user set wins."""
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8")
    try:
        ctypes.CDLL("libc.so.6").mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD: freed big buffers go back
    except (OSError, AttributeError):  # not glibc
        pass


def prepare_source(source: SourceOptions, cache_dir: Path, options: BuildOptions) -> Manifest:
    """The manifest of the corpus ``source.source`` names: the ``prepare`` of its module (a row of
    :data:`~dataset_builder.corpora.SOURCE_KINDS`)."""
    kind, location = source.kind_and_location()
    return corpus_module(kind, SOURCE_KINDS).prepare(location, source, options, cache_dir)


#: The corpus list the main process of a launched build writes into the build cache for the others.
CORPUS_LIST = "corpus.json"


def list_corpus(
    source: SourceOptions, cache_dir: Path, options: BuildOptions, processes: BuildProcesses
) -> Manifest:
    """The manifest of ``source`` (:func:`prepare_source`), listed once: in a launched build by the main
    process, which writes it to ``cache_dir/corpus.json`` for the others (who read it back into their
    corpus module's ``MANIFEST``), so that a corpus is listed (a Hub dataset streamed, 44,000 VCTK
    transcripts read) once and not once per process."""

    def listed() -> dict:
        return prepare_source(source, cache_dir, options).to_json()

    manifest = processes.computed_once(cache_dir / CORPUS_LIST, listed)
    return corpus_module(source.kind_and_location()[0], SOURCE_KINDS).MANIFEST.from_json(manifest)


def build_codecfake(
    source: str | os.PathLike | SourceOptions,
    out: str | os.PathLike,
    subsets: Sequence[str],
    options: BuildOptions | None = None,
    force: bool = False,
    regenerate_card: bool = False,
    mixtures: Sequence[str] = (),
) -> BuildReport:
    """Build (or resume building) the CodecFake Hub folder ``out`` from the speech corpus ``source``
    (VCTK, or any row of :data:`~dataset_builder.corpora.SOURCE_KINDS`).

    Args:
        source: VCTK folder (0.92 or 0.80 layout), or :class:`SourceOptions` naming any corpus.
        out: output folder (``data/<subset>/*.parquet``, ``README.md``, ``build_report.json``): new,
            empty, or an earlier build (see :func:`check_output_folder`).
        subsets: CodecFake subset ids ("E", "A", ...); ``bonafide`` is always built.
        options: see :class:`BuildOptions`.
        force: build into a non-empty folder that is no CodecFake build.
        regenerate_card: replace an earlier build's card even if it was edited since it was written.
        mixtures: mixture configs to add, ``NAME=SELECTION`` (:mod:`codecfake_hf.data.mixtures`); those an
            earlier build into ``out`` recorded are kept (a spec of the same name replaces one).

    Returns:
        The build report (also written to ``out/build_report.json``).
    """
    processes = BuildProcesses.current()
    check_output_folder(out, force, regenerate_card)
    processes.wait_for_everyone()  # every process has looked at the folder before any writes to it
    options = processes.own_options(options or BuildOptions())
    if not options.device.startswith("cuda"):
        bound_cpu_caches()
    if not processes.is_local_main:
        datasets.disable_progress_bars()  # one set of bars per machine: its first process's
    resynthesized = [get_spec(subset).id for subset in subsets if subset != BONAFIDE_CONFIG]
    for subset in resynthesized:
        family_module(get_spec(subset))  # fail now, not after the bona fide pass, if not implemented
    options.check_codec_revisions(resynthesized)
    earlier = earlier_report(Path(out))
    added = [parse_mixture(spec) for spec in mixtures]
    for mixture in added:  # against what this build will hold: fail before any audio is processed
        mixture.check(list(dict.fromkeys([*resynthesized, *(earlier["configs"] if earlier else [])])))
    mixture_list = merged_mixtures(recorded_mixtures(earlier), added)
    if options.device.startswith("cuda") and options.processes() > 1:
        # map's worker pool forks by default; CUDA needs fresh (spawned) processes.
        import multiprocess

        multiprocess.set_start_method("spawn", force=True)
    out = Path(out)
    cache_dir = out / ".build"
    with disk_full_is_a_build_error(out):
        manifest = list_corpus(SourceOptions.of(source), cache_dir, options, processes)  # may write audio
        with processes.main_first(local=True):  # one download per machine
            check_checkpoints(resynthesized, options)
        with processes.main_first():
            check = run_source_check(manifest.utterances, cache_dir, options)
        if not check.rows:
            raise DatasetBuildError(
                f"{manifest.root}: no readable audio (see the errors in the build report)"
            )
        shards = plan_shards(check.rows, options.shard_size)
        built = [BONAFIDE_CONFIG, *resynthesized]
        plan = [(subset, shard) for subset in built for shard in shards if shard.rows]
        mine = processes.share(plan)
        if processes.world > 1:
            print(f"process {processes.rank} of {processes.world}: {len(mine)} of the build's {len(plan)} shards",
                  file=sys.stderr, flush=True)  # fmt: skip
        with processes.failure_named(), disk_full_is_a_build_error(out):  # this process's own shards
            for subset in built:
                own = [shard for planned, shard in mine if planned == subset]
                build_shards(subset, own, out, cache_dir, options, show_progress=processes.is_local_main)
        processes.wait_for_everyone()  # every shard of every process is written
        with processes.main_first():  # the others return the report the main process wrote
            if not processes.is_main:
                return read_build_report(out)
            check_planned_shards(out, plan, options, processes)  # nothing is published unless all are there
            for subset in built:
                tidy_subset(subset, shards, out, cache_dir)
            configs = complete_configs(out, shards, options)
            report = build_report(manifest, check, configs, options, resolved_mixtures(mixture_list, configs))
            write_build_report(out, report)
            write_card(out, report)
    return report


def build_report(
    manifest: Manifest,
    check: SourceCheck,
    configs: list[str],
    options: BuildOptions,
    mixtures: dict[str, dict] | None = None,
) -> BuildReport:
    """The JSON report: corpus, split counts (ours and, for VCTK, the paper's), exclusions, configs, the
    mixture configs (:func:`~dataset_builder.mixture_configs.resolved_mixtures`).

    ``vctk.root`` (``source.root``) is the corpus folder as an absolute path; every other path (the excluded
    files' ``path``, and in their ``error`` messages) is relative to it, in POSIX form.
    """
    splits = {}
    for split in SPLITS:
        rows = [r for r in check.rows if r["split"] == split]
        splits[split] = {
            "utterances": len(rows),
            "speakers": sorted({r["speaker_id"] for r in rows}),
            "hours": sum(r["seconds"] for r in rows) / 3600,
            **manifest.reference_counts(split),
        }
    untranscribed = sorted({r["utterance_id"] for r in check.rows if not r["text"]})
    root = Path(manifest.root).resolve()
    excluded = []
    for entry in check.excluded:
        relative = Path(os.path.relpath(entry["path"], root)).as_posix()
        excluded.append(entry | {"path": relative, "error": entry["error"].replace(entry["path"], relative)})
    corpus = manifest.report_entry()
    if "source" in corpus:
        rates = sorted({r["sample_rate"] for r in check.rows})
        corpus["source"] = corpus["source"] | {"root": str(root), "sampling_rates": rates}
    return {
        **corpus,
        "tiny_codecs": options.tiny,
        "configs": configs,
        "splits": splits,
        "excluded": excluded,
        "untranscribed": {
            "count": len(untranscribed),
            "speakers": sorted({r["speaker_id"] for r in check.rows if not r["text"]}),
            "utterances": untranscribed,
        },
        "build_version": BUILD_VERSION,
        "mixtures": mixtures or {},
    }
