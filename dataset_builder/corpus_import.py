"""The import engine: a published corpus (:mod:`dataset_builder.corpora`) copied into this project's
layout, ``codecfake import KIND SOURCE --out DIR`` (:func:`import_corpus`).

Data flow, top to bottom:

1. The main process lists the corpus (:meth:`~dataset_builder.corpora.ImportedCorpus.list_parts`: a Hub
   repo's parquet files and their sha256, a folder's files, protocol lines) and writes the list to
   ``<out>/.build/import/parts.json`` for the other processes.
2. Part ``i`` goes to process ``i mod world`` (:class:`~dataset_builder.build_processes.BuildProcesses`,
   as ``codecfake build`` shares its shards). A process reads its parts one at a time: a Hub file is
   downloaded into ``.build/import/scratch/`` and deleted once read, so the disk holds the output and one
   input file per process, never a second copy of the corpus. Each row goes to the parquet file of its
   config and split, ``data/<config>/<split>-<part index>-of-<part count>.parquet``
   (:mod:`dataset_builder.shard_files`: written through ``.tmp`` and a rename, the part's fingerprint in
   the footer); the audio bytes are copied as they are (never decoded and re-encoded), the rate read from
   their header into ``sampling_rate``; the taxonomy columns come from the corpus
   (:meth:`~dataset_builder.corpora.ImportedCorpus.taxonomy`). Then a record of the part (its input's
   sha256, what it wrote, the rows left out) is written to ``.build/import/parts/NNNNN.json``.
3. Once every process is done, the main process removes what no part wrote (files of an earlier run),
   checks the whole (no utterance twice in a config; the corpus's own checks: listed speakers exist,
   splits share no speaker), and writes ``build_report.json`` (with the sha256 of every input file) and
   the card (:mod:`dataset_builder.import_card`), with the mixture configs ``all`` and one held-out
   mixture per minority taxonomy label (:func:`default_mixtures`).

Resume: a part whose record and every file it lists carry the current fingerprint is skipped (for a Hub
corpus without downloading it); any other part is read again and its files are rewritten under the same
names, so a rerun after a kill (even SIGKILL) finishes the rest and duplicates nothing. The files depend
only on the parts and the options, so one process and many write the same bytes.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import re
import shutil
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import datasets
import pyarrow as pa
from tqdm.auto import tqdm

from codecfake_hf.codecs.registry import CODECS, TAXONOMY_FIELDS, TAXONOMY_VALUES, CodecSpec
from codecfake_hf.data.labels import BONAFIDE_CONFIG
from codecfake_hf.data.mixtures import ALL, Mixture, parse_mixture
from codecfake_hf.files.atomic_files import atomic_path, remove_leftovers
from codecfake_hf.files.json_files import read_json
from dataset_builder import DatasetBuildError
from dataset_builder.build_cache import BUILD_VERSION, cache_key, removed_on_failure
from dataset_builder.build_processes import BuildProcesses
from dataset_builder.build_report import BuildReport, read_build_report, write_build_report
from dataset_builder.corpora import (
    ROW_COLUMNS,
    ImportedCorpus,
    ImportSummary,
    InputPart,
    corpus_module,
)
from dataset_builder.corpus import SPLITS
from dataset_builder.mixture_configs import merged_mixtures, recorded_mixtures, resolved_mixtures
from dataset_builder.output_folder import check_output_folder, disk_full_is_a_build_error, earlier_report
from dataset_builder.publishing import write_card
from dataset_builder.shard_files import FEATURES, open_shard, shard_filename, shard_is_done, taxonomy_values

#: Part of every part's fingerprint: raise it when the import writes other rows for the same input.
IMPORT_VERSION = 1
#: The import's cache inside ``--out``: the corpus kind, the part list, a record per finished part, the
#: scratch folder.
IMPORT_CACHE = Path(".build") / "import"
#: The columns of an imported shard: a build's, plus the corpus's own key for the config and the rate in
#: the audio's header (imported audio keeps whatever rate the corpus stored, row by row).
IMPORT_FEATURES = datasets.Features(
    {**FEATURES, "codec_name": datasets.Value("string"), "sampling_rate": datasets.Value("int32")}
)
_SHARD_NAME = re.compile(r"(train|validation|test)-\d{5}-of-\d{5}\.parquet")


def part_fingerprint(corpus: ImportedCorpus, part: InputPart) -> str:
    """What the files of ``part`` depend on: the import version, the corpus and its options, the part."""
    where = [part.name, part.index, part.count, part.identity]
    return cache_key([IMPORT_VERSION, BUILD_VERSION, corpus.kind, corpus.fingerprint(), *where])


def _record_path(out: Path, position: int) -> Path:
    return out / IMPORT_CACHE / "parts" / f"{position:05d}.json"


def _read_record(out: Path, position: int) -> dict | None:
    try:
        return read_json(_record_path(out, position), "the part is imported again", DatasetBuildError)
    except DatasetBuildError:
        return None


def part_is_done(out: Path, position: int, fingerprint: str) -> bool:
    """Whether part ``position`` was imported with ``fingerprint``: its record says so and every file
    it lists is complete and carries the record's fingerprint for it."""
    record = _read_record(out, position)
    return (
        record is not None
        and record.get("fingerprint") == fingerprint
        and all(
            shard_is_done(out / "data" / output["config"] / output["file"], output["fingerprint"])
            for output in record["outputs"]
        )
    )


class _Output:
    """The parquet file of one config and split of a part, and what it holds."""

    def __init__(self, writer, config: str, split: str, file: str, fingerprint: str) -> None:
        self.writer = writer
        self.entry = {"config": config, "split": split, "file": file, "fingerprint": fingerprint}
        self.rows = 0
        self.bonafide_rows = 0
        self.seconds = 0.0
        self.speakers: set[str] = set()
        self.rates: set[int] = set()
        self.codec_names: set[str] = set()
        self.utterance_ids: list[str] = []

    def add(self, table: pa.Table, seconds: Iterable[float]) -> None:
        self.writer.write(table)
        self.rows += table.num_rows
        self.bonafide_rows += sum(table["label"].to_pylist())
        self.seconds += sum(seconds)
        self.speakers.update(table["speaker_id"].to_pylist())
        self.rates.update(table["sampling_rate"].to_pylist())
        self.codec_names.update(table["codec_name"].to_pylist())
        self.utterance_ids.extend(table["utterance_id"].to_pylist())

    def record(self) -> dict:
        return self.entry | {
            "rows": self.rows,
            "bonafide_rows": self.bonafide_rows,
            "seconds": self.seconds,
            "speakers": sorted(self.speakers),
            "sampling_rates": sorted(self.rates),
            "codec_names": sorted(self.codec_names),
            "utterance_ids": self.utterance_ids,
        }


def import_part(
    corpus: ImportedCorpus, part: InputPart, position: int, out: Path, show_progress: bool = True
) -> dict:
    """Read ``part`` and write its files (module docstring, step 2); returns its record (also written
    to ``.build/import/parts/``)."""
    fingerprint = part_fingerprint(corpus, part)
    taxonomy: dict[str, dict[str, str]] = {BONAFIDE_CONFIG: _labels(corpus, BONAFIDE_CONFIG)}
    outputs: dict[tuple[str, str], _Output] = {}
    excluded: list[dict] = []
    scratch = out / IMPORT_CACHE / "scratch" / f"{position:05d}"
    with (
        removed_on_failure(scratch),
        corpus.open_part(part, scratch) as opened,
        contextlib.ExitStack() as files,
        tqdm(total=part.rows, desc=part.name, unit="row", leave=False, disable=not show_progress) as bar,
    ):
        for batch in opened.batches:
            for config in dict.fromkeys(batch["codec"]):
                if config not in taxonomy:
                    taxonomy[config] = _labels(corpus, config)
            routes: dict[tuple[str, str], list[int]] = collections.defaultdict(list)
            for row, (config, split, error) in enumerate(zip(batch["codec"], batch["split"], batch["error"])):
                if error is None:
                    routes[config, split].append(row)
                else:
                    excluded.append(
                        {name: batch[name][row] for name in ("utterance_id", "speaker_id", "split", "codec")}
                        | {"error": error}
                    )
            table = _table(batch, taxonomy)
            for (config, split), rows in routes.items():
                if (config, split) not in outputs:
                    file = shard_filename(split, part.index, part.count)
                    key = cache_key([fingerprint, config, split])
                    writer = files.enter_context(
                        open_shard(out / "data" / config / file, IMPORT_FEATURES, key)
                    )
                    outputs[config, split] = _Output(writer, config, split, file, key)
                outputs[config, split].add(table.take(rows), (batch["seconds"][row] for row in rows))
            bar.update(len(batch["codec"]))
        source = opened.input
    record = {
        "part": part.name,
        "fingerprint": fingerprint,
        "input": source,
        "outputs": [output.record() for output in outputs.values()],
        "taxonomy": taxonomy,
        "excluded": excluded,
    }
    path = _record_path(out, position)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(record), encoding="utf-8")
    shutil.rmtree(scratch, ignore_errors=True)
    return record


def _labels(corpus: ImportedCorpus, config: str) -> dict[str, str]:
    """The taxonomy columns of ``config``'s rows (all ``bonafide`` for the bona fide config)."""
    if config == BONAFIDE_CONFIG:
        return taxonomy_values(config)
    labels = corpus.taxonomy(config)
    return {name: labels[name] for name in TAXONOMY_FIELDS}


def _table(batch: dict[str, list], taxonomy: dict[str, dict[str, str]]) -> pa.Table:
    """The shard columns of ``batch`` (:data:`IMPORT_FEATURES`, in order), taxonomy columns filled in
    (the bona fide labels on every bona fide row, also one of a config's own)."""
    columns = {name: batch[name] for name in ROW_COLUMNS}
    labelled = [BONAFIDE_CONFIG if label else config for config, label in zip(batch["codec"], batch["label"])]
    for name in TAXONOMY_FIELDS:
        columns[name] = [taxonomy[config][name] for config in labelled]
    return pa.Table.from_pydict(
        {name: columns[name] for name in IMPORT_FEATURES}, schema=IMPORT_FEATURES.arrow_schema
    )


def default_mixtures(configs: Sequence[str], taxonomy: dict[str, dict[str, str]]) -> list[Mixture]:
    """``all`` and, for each taxonomy label of the registry's vocabulary other than the most common one
    (``MVQ``, ``none``, ``time``) that some but not all spoof configs carry, a mixture holding it out:
    ``heldout-frequency`` (every config but the frequency-domain decoders, which are then the test),
    ``heldout-semantic-distillation``, ``heldout-svq``, ... (none for a single spoof config)."""
    spoof = [config for config in configs if config != BONAFIDE_CONFIG]
    if len(spoof) < 2:
        return [parse_mixture(ALL)] if spoof else []
    common = {
        item.name: item.default for item in dataclasses.fields(CodecSpec) if item.name in TAXONOMY_FIELDS
    }
    mixtures = [parse_mixture(ALL)]
    for field in ("decoder_domain", "auxiliary", "quantizer"):
        for value in sorted(set(TAXONOMY_VALUES[field]) - {common[field]}):
            holders = [config for config in spoof if taxonomy[config][field] == value]
            if 0 < len(holders) < len(spoof):
                name = "heldout-" + re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
                mixtures.append(parse_mixture(f"{name}={ALL}-{field}:{value}"))
    return mixtures


def _config_order(configs: Iterable[str]) -> list[str]:
    """Bona fide first, then the registered codecs in registry order, then the others by name."""
    order = [BONAFIDE_CONFIG, *CODECS]
    return sorted(configs, key=lambda c: (order.index(c), "") if c in order else (len(order), c))


def tidy(out: Path, records: Sequence[dict], parts: int) -> None:
    """Remove what no current part wrote: shards (and temporary files of killed writers) of an earlier run under
    ``data/``, the records of parts beyond ``parts``, and the scratch folder."""
    written = {(output["config"], output["file"]) for record in records for output in record["outputs"]}
    for folder in sorted(p for p in (out / "data").glob("*") if p.is_dir()):
        for path in folder.iterdir():
            if _SHARD_NAME.fullmatch(path.name) and (folder.name, path.name) not in written:
                path.unlink()
        remove_leftovers(folder)  # temporary shard files of killed processes
        if not any(folder.iterdir()):
            folder.rmdir()
    for record in (out / IMPORT_CACHE / "parts").glob("*.json*"):
        if not record.name.endswith(".json") or int(record.stem) >= parts:
            record.unlink()
    shutil.rmtree(out / IMPORT_CACHE / "scratch", ignore_errors=True)


def _check_duplicates(records: Sequence[dict]) -> None:
    """Raise when an utterance id is twice in a config (the corpus holds a row twice)."""
    seen: dict[tuple[str, str], str] = {}
    for record in records:
        for output in record["outputs"]:
            for utterance_id in output["utterance_ids"]:
                key = (output["config"], utterance_id)
                if key in seen:
                    raise DatasetBuildError(
                        f"utterance {utterance_id} of config {output['config']} is in {seen[key]} and in "
                        f"{record['part']}: the corpus holds it twice; nothing is published until it is fixed"
                    )
                seen[key] = record["part"]


def summarise(records: Sequence[dict]) -> tuple[dict, ImportSummary]:
    """Per config: codec names, rows and seconds per split, sampling rates; and the summary the corpus
    checks."""
    configs: dict[str, dict] = {}
    speakers: dict[str, set[str]] = {split: set() for split in SPLITS}
    for record in records:
        for output in record["outputs"]:
            entry = configs.setdefault(
                output["config"],
                {
                    "codec_names": set(),
                    "bonafide_rows": 0,
                    "rows": dict.fromkeys(SPLITS, 0),
                    "seconds": dict.fromkeys(SPLITS, 0.0),
                    "sampling_rates": set(),
                },
            )
            entry["codec_names"].update(output["codec_names"])
            entry["rows"][output["split"]] += output["rows"]
            entry["bonafide_rows"] += output["bonafide_rows"]
            entry["seconds"][output["split"]] += output["seconds"]
            entry["sampling_rates"].update(output["sampling_rates"])
            speakers[output["split"]].update(speaker for speaker in output["speakers"] if speaker)
    summary = ImportSummary(
        rows={config: dict(entry["rows"]) for config, entry in configs.items()},
        speakers={split: sorted(names) for split, names in speakers.items()},
    )
    return configs, summary


def _check_folder(out: Path, kind: str) -> None:
    """Refuse a folder holding a build, or an import of another corpus (its shards have the same names);
    an import marks its folder first (``.build/import/kind``)."""
    earlier = earlier_report(out)
    if earlier is not None and earlier.get("imported", {}).get("kind") != kind:
        held = f"an import of {earlier['imported']['kind']}" if "imported" in earlier else "a codecfake build"
        raise DatasetBuildError(f"{out}: holds {held}; import {kind} into another --out folder")
    marker = out / IMPORT_CACHE / "kind"
    if marker.is_file():
        started = marker.read_text(encoding="utf-8").strip()
        if started != kind:
            raise DatasetBuildError(
                f"{out}: holds an unfinished import of {started}; import {kind} elsewhere"
            )
    elif any((out / "data").glob("*/*.parquet")):
        raise DatasetBuildError(f"{out}: holds a codecfake build (data/ and no import); choose another --out")


def _mark_folder(out: Path, kind: str) -> None:
    marker = out / IMPORT_CACHE / "kind"
    marker.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(marker) as temporary:
        temporary.write_text(kind + "\n", encoding="utf-8")


def import_corpus(
    kind: str,
    source: str,
    out: str | Path,
    options: object | None = None,
    mixtures: Sequence[str] = (),
    force: bool = False,
    regenerate_card: bool = False,
) -> BuildReport:
    """Import (or resume importing) corpus ``kind`` from ``source`` into ``out``.

    Args:
        kind: a :data:`~dataset_builder.corpora.CORPUS_KINDS` name ("release", "asvspoof2019").
        source: what the corpus reads (a Hub id, a folder).
        out: output folder: new, empty, or an earlier import of the same corpus.
        options: the corpus module's ``Options`` (default: its defaults).
        mixtures: mixture configs to add, ``NAME=SELECTION`` (:mod:`codecfake_hf.data.mixtures`), to the
            defaults (:func:`default_mixtures`) or to those an earlier import recorded.
        force: import into a non-empty folder that is no CodecFake folder.
        regenerate_card: replace a card edited since it was written.

    Returns:
        The report (also written to ``out/build_report.json``).
    """
    module = corpus_module(kind)
    corpus: ImportedCorpus = module.Corpus(source, options if options is not None else module.Options())
    out = Path(out)
    processes = BuildProcesses.current()
    check_output_folder(out, force, regenerate_card)
    _check_folder(out, kind)
    added = [parse_mixture(spec) for spec in mixtures]  # a typo stops the import before it starts
    processes.wait_for_everyone()  # every process has looked at the folder before any writes to it
    if not processes.is_local_main:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()  # one set of bars per machine: its first process's
    with disk_full_is_a_build_error(out):
        listing = processes.computed_once(out / IMPORT_CACHE / "parts.json", lambda: _listing(corpus, out))
        parts = [InputPart(**part) for part in listing["parts"]]
        mine = processes.share(list(enumerate(parts)))
        if processes.world > 1:
            share = f"{len(mine)} of the import's {len(parts)} parts"
            print(f"process {processes.rank} of {processes.world}: {share}", file=sys.stderr, flush=True)
        with processes.failure_named():
            for position, part in tqdm(
                mine, desc=f"import {kind}", unit="part", disable=not processes.is_local_main
            ):
                if not part_is_done(out, position, part_fingerprint(corpus, part)):
                    import_part(corpus, part, position, out, show_progress=processes.is_local_main)
        processes.wait_for_everyone()  # every part of every process is written
        with processes.main_first():  # the others return the report the main process wrote
            if not processes.is_main:
                return read_build_report(out)
            records = []
            for position, part in enumerate(parts):
                record = _read_record(out, position)
                if record is None or record["fingerprint"] != part_fingerprint(corpus, part):
                    raise DatasetBuildError(
                        f"{part.name}: not imported (a process stopped?); rerun the same command"
                    )
                records.append(record)
            tidy(out, records, len(parts))
            report = import_report(corpus, listing["source"], records, added, earlier_report(out))
            write_build_report(out, report)
            write_card(out, report)
    return report


def _inputs(read: dict | list[dict] | None) -> list[dict]:
    """The input files one part read (:attr:`~dataset_builder.corpora.OpenedPart.input`), as a list."""
    if read is None:
        return []
    return list(read) if isinstance(read, list) else [read]


def _listing(corpus: ImportedCorpus, out: Path) -> dict:
    """The corpus listed (by the main process), and ``out`` marked as its import once that succeeded."""
    listing = corpus.list_parts()
    _mark_folder(out, corpus.kind)
    return {
        "kind": corpus.kind,
        "parts": [dataclasses.asdict(part) for part in listing.parts],
        "source": listing.source,
    }


def import_report(
    corpus: ImportedCorpus,
    source: dict,
    records: Sequence[dict],
    added: Sequence[Mixture],
    earlier: BuildReport | None,
) -> BuildReport:
    """The report of a finished import (``build_report.json``; see
    :class:`~dataset_builder.build_report.BuildReport`, key ``imported``), after the checks of the whole."""
    _check_duplicates(records)
    entries, summary = summarise(records)
    corpus.check(summary)
    configs = _config_order(entries)
    taxonomy = {
        config: labels
        for record in records
        for config, labels in record["taxonomy"].items()
        if config in entries  # a part's bona fide labels are recorded with its configs
    }
    earlier_mixtures = recorded_mixtures(earlier) if earlier and "imported" in earlier else None
    mixture_list = merged_mixtures(
        earlier_mixtures if earlier_mixtures is not None else default_mixtures(configs, taxonomy), added
    )
    for mixture in added:
        mixture.check(configs, taxonomy)
    bonafide = entries.get(
        BONAFIDE_CONFIG, {"rows": dict.fromkeys(SPLITS, 0), "seconds": dict.fromkeys(SPLITS, 0.0)}
    )
    return {
        "imported": {
            "kind": corpus.kind,
            "title": corpus.title,
            **source,
            "license": corpus.license,
            "license_name": corpus.license_name,
            "license_link": corpus.license_link,
            "split_rule": corpus.split_rule(),
            "options": dataclasses.asdict(corpus.options),
            "inputs": [item for record in records for item in _inputs(record["input"])],
            "configs": {
                config: {
                    "codec_names": sorted(entries[config]["codec_names"]),
                    **taxonomy[config],
                    "own_bonafide": config != BONAFIDE_CONFIG and entries[config]["bonafide_rows"] > 0,
                    "rows": entries[config]["rows"],
                    "hours": sum(entries[config]["seconds"].values()) / 3600,
                    "sampling_rates": sorted(entries[config]["sampling_rates"]),
                }
                for config in configs
            },
            "shared_speakers": summary.shared_speakers(),
            "reference_counts": corpus.reference_counts(),
            "notes": corpus.notes(),
        },
        "tiny_codecs": False,
        "configs": configs,
        "splits": {
            split: {
                "utterances": bonafide["rows"][split],
                "speakers": list(summary.speakers[split]),
                "hours": bonafide["seconds"][split] / 3600,
            }
            for split in SPLITS
        },
        "excluded": [entry for record in records for entry in record["excluded"]],
        "build_version": BUILD_VERSION,
        "mixtures": resolved_mixtures(mixture_list, configs, taxonomy),
    }
