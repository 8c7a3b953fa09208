"""The CodecFake release of Wu, Tseng and Lee (Interspeech 2024): the Hub dataset ``rogertseng/CodecFake``
(CC BY 4.0), 707,872 rows in 161 parquet shards of one ``default`` config and one ``train`` split, with the
columns ``audio`` (WAV bytes at each codec's own rate), ``label`` (the strings ``genuine`` / ``spoofing``),
``speaker_id`` (VCTK ids, ``p225``) and ``codec_name`` (15 codec names, ``genuine`` on bona fide rows).

``codecfake import release SOURCE`` reads it from the Hub (SOURCE a Hub id: one shard downloaded at a
time into the import's scratch folder and deleted once read; its sha256 checked against the one the Hub
lists) or from a local snapshot (SOURCE a folder holding ``data/*.parquet``). Each input shard is one part;
its rows go to the config of their codec (:data:`CODEC_NAMES`: codec_name -> paper subset id, from the
release's ``train.sh`` and the paper's Table 1; a name not in it becomes a config of its own name, listed
in the report and the card) and to the split of their speaker: the split of the release's training code
(``data_utils.py``: validation p226, p229; test p227, p228; train every other speaker), or the speakers
given with ``--validation-speakers`` / ``--test-speakers``.

Rows are read from the parquet itself, never by position in ``datalist.csv``: the authors' loader picks
rows by that file's line number, which its header (and a dummy row) shift. ``datalist.csv`` is not read.

Checked on every row, each failure one line naming the shard, the row and the value: the label is
``genuine`` or ``spoofing`` and agrees with ``codec_name`` (bona fide rows are those whose codec_name is
``--bonafide-codec-name``, ``genuine``); the audio path matches ``--path-pattern`` (the facts say
``<codec_name>+<speaker>_<utterance>.wav``, not verified on the published files), whose ``utterance_id``
group is the utterance id (``p225_001``) and whose ``speaker_id`` and ``codec_name`` groups equal the
row's columns; the shard has exactly the four columns.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from codecfake_hf.data.labels import BONAFIDE_CONFIG
from dataset_builder import DatasetBuildError
from dataset_builder.corpora import (
    CONFIG_NAME,
    UNKNOWN,
    ImportedCorpus,
    ImportSummary,
    InputPart,
    ListedSpeakers,
    Listing,
    OpenedPart,
    audio_header,
    empty_rows,
    label_of,
    option_pattern,
    reserved_config,
)
from dataset_builder.corpora.vctk import PAPER_COUNTS, TEST_SPEAKERS, VALIDATION_SPEAKERS, VCTK_CITATION
from dataset_builder.source_options import SpeakerLists

RELEASE_HUB_ID = "rogertseng/CodecFake"
#: The release's codec_name of each paper subset (``train.sh`` / ``eval_all.sh``; F1..F6 by Table 1).
CODEC_NAMES = {
    "SpeechTokenizer": "A",
    "academicodec_hifi_16k_320d": "B1",
    "academicodec_hifi_16k_320d_large_uni": "B2",
    "academicodec_hifi_24k_320d": "B3",
    "audiodec_24k_320d": "C",
    "descript-audio-codec-16khz": "D1",
    "descript-audio-codec-24khz": "D2",
    "descript-audio-codec-44khz": "D3",
    "encodec_24khz": "E",
    "funcodec-funcodec_en_libritts-16k-gr1nq32ds320": "F1",
    "funcodec-funcodec_en_libritts-16k-gr8nq32ds320": "F2",
    "funcodec-funcodec_en_libritts-16k-nq32ds320": "F3",
    "funcodec-funcodec_en_libritts-16k-nq32ds640": "F4",
    "funcodec-funcodec_zh_en_general_16k_nq32ds320": "F5",
    "funcodec-funcodec_zh_en_general_16k_nq32ds640": "F6",
}
#: The label strings of the release (``data_utils.py``: ``1 if label == "genuine" else 0``).
BONAFIDE_LABEL, SPOOF_LABEL = "genuine", "spoofing"
#: The columns of every shard (the card's ``dataset_info``).
COLUMNS = ("audio", "label", "speaker_id", "codec_name")
#: The audio path of a row: ``<codec_name>+<speaker>_<utterance>.<ext>``, after any folder.
DEFAULT_PATH_PATTERN = (
    r"(?:.*/)?(?P<codec_name>[^/+]+)\+(?P<utterance_id>(?P<speaker_id>[^/_]+)_[^/]+)\.[A-Za-z0-9]+"
)
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
WU_2024_CITATION = """@inproceedings{wu2024codecfake,
  title = {{CodecFake}: Enhancing Anti-Spoofing Models Against Deepfake Audios from Codec-Based Speech
           Synthesis Systems},
  author = {Wu, Haibin and Tseng, Yuan and Lee, Hung-yi},
  booktitle = {Proc. Interspeech},
  year = {2024},
  note = {arXiv:2406.07237}
}"""


@dataclass(frozen=True)
class Options(SpeakerLists):
    """How to read the release (``codecfake import release --help``)."""

    revision: str = field(
        default="main",
        metadata={
            "help": "Hub SOURCE: the branch, tag or commit to read; the commit it points to is recorded in "
            "build_report.json, and every shard comes from that commit"
        },
    )
    path_pattern: str = field(
        default=DEFAULT_PATH_PATTERN,
        metadata={
            "help": "regular expression every row's audio path must match in full: its group utterance_id is "
            "the utterance id (p225_001), its optional groups speaker_id and codec_name must equal the "
            "row's columns. The default is <codec_name>+<speaker>_<utterance>.wav, the form of the "
            "authors' file names, not verified on the published shards"
        },
    )
    bonafide_codec_name: str = field(
        default=BONAFIDE_LABEL,
        metadata={
            "help": "the codec_name of bona fide rows (genuine in the authors' datalist.csv; the parquet is "
            "assumed to agree, and a row whose label disagrees is refused)"
        },
    )


class Corpus(ImportedCorpus):
    """The release (module docstring)."""

    kind = "release"
    title = "CodecFake (Wu et al., 2024)"
    description = (
        "The audio of the CodecFake paper as its authors published it (`rogertseng/CodecFake`): every VCTK "
        "utterance resynthesized by 15 neural audio codecs (subsets A..F6), plus the VCTK originals as bona "
        "fide speech, each clip at its codec's own rate."
    )
    license = "cc-by-4.0"
    license_name = "CC BY 4.0"
    license_link = f"https://huggingface.co/datasets/{RELEASE_HUB_ID}"
    attribution = (
        f"CodecFake by Haibin Wu, Yuan Tseng and Hung-yi Lee (Interspeech 2024), published as "
        f"`{RELEASE_HUB_ID}` under CC BY 4.0; its bona fide speech and the codecs' input is the CSTR VCTK "
        "corpus (Yamagishi, Veaux, MacDonald; CC BY 4.0). Changes made by this import: the single `train` "
        "split is split by speaker into train / validation / test, the rows are regrouped into one config "
        "per codec, the labels became a ClassLabel (bona fide = 1), and the columns utterance_id, codec, "
        "the codec taxonomy and sampling_rate were added; the audio bytes are unchanged."
    )
    citation = f"{WU_2024_CITATION}\n{VCTK_CITATION}"

    def __init__(self, source: str, options: Options) -> None:
        super().__init__(source, options)
        self.pattern = option_pattern("--path-pattern", options.path_pattern, ("utterance_id",))
        self.speakers = ListedSpeakers(options, VALIDATION_SPEAKERS, TEST_SPEAKERS)

    def fingerprint(self) -> dict:
        return {
            "path_pattern": self.options.path_pattern,
            "bonafide_codec_name": self.options.bonafide_codec_name,
            **self.speakers.fingerprint(),
        }

    def split_rule(self) -> dict:
        return self.speakers.rule()

    def taxonomy(self, config: str) -> dict[str, str]:
        from codecfake_hf.codecs.registry import CODECS
        from dataset_builder.shard_files import taxonomy_values

        if config in CODECS:
            return taxonomy_values(config)
        return {"family": UNKNOWN, "quantizer": UNKNOWN, "auxiliary": UNKNOWN, "decoder_domain": UNKNOWN}

    def reference_counts(self) -> dict[str, int]:
        return dict(PAPER_COUNTS) if self.speakers.is_default else {}

    def notes(self) -> list[str]:
        if self.speakers.is_default:
            split = "the speaker split of the release's training code (`data_utils.py`)"
        else:
            split = "the speakers given (`--validation-speakers`, `--test-speakers`)"
        return [
            f"Splits: {split}; the Hub release has a single `train` split.",
            f"Rows were taken from the parquet shards themselves, each identified by its audio path, parsed "
            f"with the pattern `{self.options.path_pattern}` (every row matched; `--path-pattern`); "
            "`datalist.csv` was not read (its line numbers are not row numbers).",
            f"Bona fide rows: label `{BONAFIDE_LABEL}` and codec_name `{self.options.bonafide_codec_name}` "
            f"(`--bonafide-codec-name`); spoof rows: label `{SPOOF_LABEL}`; every row's label and codec_name "
            "agreed.",
            "The speaker count is not fixed (the paper says 107 speakers, the Hub viewer shows 109 "
            "speaker ids); the splits are checked to share no speaker.",
        ]

    def check(self, summary: ImportSummary) -> None:
        """Speakers given with --validation-speakers / --test-speakers must have rows (a partial snapshot
        may lack the release's own validation and test speakers: those splits are then empty)."""
        self.speakers.check(summary, self.source)

    # --- listing --------------------------------------------------------------------------------

    def list_parts(self) -> Listing:
        folder = Path(self.source).expanduser()
        if folder.exists():
            return self._list_folder(folder)
        if not _HUB_ID.fullmatch(self.source):
            raise DatasetBuildError(
                f"{self.source}: no such folder, and not a Hub id (ORG/NAME); pass {RELEASE_HUB_ID} or a "
                "folder holding a snapshot of it (data/*.parquet)"
            )
        return self._list_hub()

    def _list_folder(self, folder: Path) -> Listing:
        import pyarrow.parquet as pq

        if not folder.is_dir():
            raise DatasetBuildError(
                f"{folder}: is a file; pass the snapshot folder that holds data/*.parquet"
            )
        files = sorted((folder / "data").glob("*.parquet"))
        if not files:
            raise DatasetBuildError(
                f"{folder}: no data/*.parquet; pass a snapshot of {RELEASE_HUB_ID} (`hf download "
                f"{RELEASE_HUB_ID} --repo-type dataset --local-dir DIR`), or the Hub id to stream it"
            )
        parts = []
        for index, path in enumerate(files):
            name = path.relative_to(folder).as_posix()
            try:
                parquet = pq.ParquetFile(path)
            except (OSError, ValueError) as error:
                raise DatasetBuildError(f"{path}: not a parquet file ({error}); download it again") from None
            check_columns(parquet.schema_arrow.names, name)
            stat = path.stat()
            identity = {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}
            location = {"path": str(path.resolve())}
            parts.append(InputPart(name, index, len(files), identity, location, parquet.metadata.num_rows))
        return Listing(parts, {"id": str(folder.resolve()), "hub_id": RELEASE_HUB_ID, "revision": None})

    def _list_hub(self) -> Listing:
        from huggingface_hub import HfApi, constants
        from huggingface_hub.errors import HfHubHTTPError, HTTPError
        from huggingface_hub.hf_api import RepoFile

        if constants.HF_HUB_OFFLINE:
            raise DatasetBuildError(
                f"{self.source}: a Hub id, and HF_HUB_OFFLINE is set, so it cannot be streamed; unset "
                f"HF_HUB_OFFLINE, or download a snapshot where there is network (`hf download {self.source} "
                "--repo-type dataset --local-dir DIR`) and pass DIR"
            )
        api = HfApi()
        try:
            commit = api.dataset_info(self.source, revision=self.options.revision).sha
            listed = api.list_repo_tree(self.source, "data", repo_type="dataset", revision=commit)
            files = sorted(
                (item for item in listed if isinstance(item, RepoFile) and item.path.endswith(".parquet")),
                key=lambda item: item.path,
            )
        except (HfHubHTTPError, HTTPError, ValueError) as error:
            reason = " ".join(str(error).split())[:200] or type(error).__name__
            raise DatasetBuildError(
                f"{self.source}: cannot list the Hub dataset (revision {self.options.revision}): "
                f"{type(error).__name__}: {reason}; check the id, --revision and the network, or pass a "
                "local snapshot"
            ) from None
        if not files:
            raise DatasetBuildError(
                f"{self.source}@{commit}: no data/*.parquet on the Hub; is it {RELEASE_HUB_ID}?"
            )
        parts = []
        for index, item in enumerate(files):
            identity = {
                "bytes": item.size,
                "sha256": item.lfs.sha256 if item.lfs else None,
                "blob": item.blob_id,
            }
            location = {"repo": self.source, "file": item.path, "revision": commit}
            parts.append(InputPart(item.path, index, len(files), identity, location))
        return Listing(parts, {"id": self.source, "hub_id": self.source, "revision": commit})

    # --- reading --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def open_part(self, part: InputPart, scratch: Path) -> Iterator[OpenedPart]:
        from codecfake_hf.files.hub_io import sha256_file

        if "path" in part.location:
            path = Path(part.location["path"])
            yield OpenedPart(self._batches(part, path), _input(part, path, sha256_file(path)))
            return
        path = self._download(part, scratch)  # the engine deletes scratch, and the download, once read
        digest = sha256_file(path)
        if part.identity["sha256"] and digest != part.identity["sha256"]:
            raise DatasetBuildError(
                f"{part.name}: downloaded bytes have sha256 {digest}, the Hub lists "
                f"{part.identity['sha256']}; rerun to download it again"
            )
        yield OpenedPart(self._batches(part, path), _input(part, path, digest))

    def _download(self, part: InputPart, scratch: Path) -> Path:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import HfHubHTTPError, HTTPError

        where = part.location
        try:
            path = hf_hub_download(
                where["repo"],
                where["file"],
                repo_type="dataset",
                revision=where["revision"],
                local_dir=scratch,
            )
            return Path(path)
        except (HfHubHTTPError, HTTPError, OSError) as error:
            raise DatasetBuildError(
                f"{where['repo']}/{part.name}: download failed ({type(error).__name__}: "
                f"{' '.join(str(error).split())[:200]}); rerun the same command to go on"
            ) from None

    def _batches(self, part: InputPart, path: Path) -> Iterator[dict[str, list]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from dataset_builder.shard_files import ROW_GROUP_SIZE

        parquet = pq.ParquetFile(path)
        check_columns(parquet.schema_arrow.names, part.name)
        audio = parquet.schema_arrow.field("audio").type
        if not (pa.types.is_struct(audio) and {"bytes", "path"} <= {item.name for item in audio}):
            raise DatasetBuildError(
                f"{part.name}: column audio is {audio}, not the Audio feature's {{bytes, path}}; is this the "
                "release?"
            )
        offset = 0
        for batch in parquet.iter_batches(batch_size=ROW_GROUP_SIZE, columns=list(COLUMNS)):
            yield self._rows(batch, part.name, offset)
            offset += batch.num_rows

    def _rows(self, batch, name: str, offset: int) -> dict[str, list]:
        """The rows of one record batch (columns of :data:`COLUMNS`), checked (module docstring)."""
        audio = batch.column("audio")
        paths, data = audio.field("path").to_pylist(), audio.field("bytes")
        rows = empty_rows()
        columns = (batch.column(name).to_pylist() for name in ("label", "speaker_id", "codec_name"))
        for row, (label, speaker, codec_name, path) in enumerate(zip(*columns, paths)):
            where = f"{name} row {offset + row}"
            value = label_of(label, BONAFIDE_LABEL, SPOOF_LABEL, where)
            bonafide = codec_name == self.options.bonafide_codec_name
            if bonafide != (value == 1):
                raise DatasetBuildError(
                    f"{where}: label {label!r} but codec_name {codec_name!r} (bona fide rows have codec_name "
                    f"{self.options.bonafide_codec_name!r}, --bonafide-codec-name); the two disagree, so the "
                    "label cannot be trusted; nothing of this shard was imported"
                )
            utterance_id = self._utterance_id(path, speaker, codec_name, where)
            buffer = data[row].as_buffer()
            try:
                rate, seconds = (0, 0.0) if buffer is None else audio_header(buffer)
                error = None if rate else f"{where}: no audio bytes"
            except (RuntimeError, ValueError, TypeError) as problem:
                rate, seconds, error = 0, 0.0, f"{where}: audio unreadable ({' '.join(str(problem).split())})"
            rows["label"].append(value)
            rows["speaker_id"].append(speaker)
            rows["utterance_id"].append(utterance_id)
            rows["codec"].append(BONAFIDE_CONFIG if bonafide else self._config(codec_name, where))
            rows["codec_name"].append(codec_name)
            rows["sampling_rate"].append(rate)
            rows["text"].append("")
            rows["split"].append(self.speakers.split(speaker))
            rows["seconds"].append(seconds)
            rows["error"].append(error)
        return rows | {"audio": audio}  # the input's arrow array: the bytes as they are

    def _utterance_id(self, path: object, speaker: object, codec_name: object, where: str) -> str:
        match = self.pattern.fullmatch(path) if isinstance(path, str) else None
        if match is None:
            raise DatasetBuildError(
                f"{where}: audio path {path!r} does not match --path-pattern {self.options.path_pattern!r}; "
                "pass a pattern that fits the release's paths (its group utterance_id gives the id)"
            )
        groups = match.groupdict()
        for column, value in (("speaker_id", speaker), ("codec_name", codec_name)):
            if groups.get(column) is not None and groups[column] != value:
                raise DatasetBuildError(
                    f"{where}: audio path {path!r} names {column} {groups[column]!r}, the row's {column} is "
                    f"{value!r}; fix --path-pattern if its group {column} is not what the path means"
                )
        return groups["utterance_id"]

    @staticmethod
    def _config(codec_name: object, where: str) -> str:
        """The config of a spoof row's codec_name: its paper subset, else the name itself."""
        if codec_name in CODEC_NAMES:
            return CODEC_NAMES[codec_name]
        valid = isinstance(codec_name, str) and CONFIG_NAME.fullmatch(codec_name)
        if not valid or reserved_config(codec_name):
            raise DatasetBuildError(
                f"{where}: codec_name {codec_name!r} is no codec of the paper and cannot name a config of "
                "its own (letters, digits, '_', '.', '-'; not a subset id, bonafide, default or all)"
            )
        return codec_name


def check_columns(columns: list[str], name: str) -> None:
    """Refuse a shard whose columns are not exactly :data:`COLUMNS`, naming it and the difference."""
    missing, unexpected = sorted(set(COLUMNS) - set(columns)), sorted(set(columns) - set(COLUMNS))
    if missing or unexpected:
        raise DatasetBuildError(
            f"{name}: columns {', '.join(columns)}; the release has exactly {', '.join(COLUMNS)}"
            + (f" (missing: {', '.join(missing)})" if missing else "")
            + (f" (unexpected: {', '.join(unexpected)})" if unexpected else "")
            + "; is this a snapshot of the release?"
        )


def _input(part: InputPart, path: Path, sha256: str) -> dict:
    return {"name": part.name, "bytes": path.stat().st_size, "sha256": sha256}
