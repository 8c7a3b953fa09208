"""Fixtures of the published-corpora blocks (docs/published-corpora.md): look-alikes of the corpora as
their downloads leave them (``dataset_builder.corpora.lookalike``), placed where the blocks read them,
their imports, and checks of what a block must have written."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.docs_fixtures.basic import copy
from tests.docs_fixtures.registry import ARTEFACTS, BlockFolder, artefact, fixture

#: Info-ZIP's smallest piece of a split archive (``zip -s``), bytes.
SPLIT_SIZE = "64k"


# --- artefacts (made once per test module, copied into each block's folder) -------------------------


def _lookalike(maker: str, **options: object) -> Callable[[Path], Path]:
    """``make(folder)``: ``dataset_builder.corpora.lookalike.<maker>(folder, **options)``."""

    def make(folder: Path) -> Path:
        from dataset_builder.corpora import lookalike

        return getattr(lookalike, maker)(folder, **options)

    return make


artefact("asvspoof2019_lookalike")(_lookalike("make_asvspoof2019_lookalike"))
artefact("codecfake_plus_lookalike")(_lookalike("make_codecfake_plus_lookalike"))
artefact("release_lookalike")(_lookalike("make_release_lookalike"))
artefact("xie_extracted")(_lookalike("make_xie_lookalike"))
artefact("cdd_lookalike")(_lookalike("make_cdd_lookalike"))


@artefact("xie_split_zips")
def make_xie_split_zips(folder: Path) -> Path:
    """Xie et al.'s zips as Zenodo has them: ``train`` and ``dev`` split by Info-ZIP (``zip -s``) into
    ``<piece>_split.zip`` + ``.z01``..., the test conditions' zips whole (clips of 0.4 to 0.6 s, so that
    the training archives span several pieces)."""
    from dataset_builder.corpora.lookalike import make_xie_lookalike

    if shutil.which("zip") is None:
        raise AssertionError(
            "Info-ZIP's zip is not installed (apt-get install zip): the Xie block joins with it"
        )
    make_xie_lookalike(folder, zipped=True, seconds=(0.4, 0.6))
    for piece in ("train", "dev"):
        command = ["zip", "-q", "-s", SPLIT_SIZE, f"{piece}.zip", "--out", f"{piece}_split.zip"]
        subprocess.run(command, cwd=folder, check=True, capture_output=True)
        (folder / f"{piece}.zip").unlink()
        assert (folder / f"{piece}_split.z01").is_file(), f"{piece}.zip was not split"
    return folder


def _imported(kind: str, source: str) -> Callable[[Path], Path]:
    """``make(folder)``: the look-alike artefact ``source`` made beside ``folder`` and imported as corpus
    ``kind`` into it."""

    def make(folder: Path) -> Path:
        from dataset_builder.corpus_import import import_corpus

        import_corpus(kind, str(ARTEFACTS[source](folder.parent / f"{folder.name}-source")), folder)
        return folder

    return make


artefact("imported_release")(_imported("release", "release_lookalike"))
artefact("imported_codecfake_plus")(_imported("codecfake-plus", "codecfake_plus_lookalike"))
artefact("imported_asvspoof2019")(_imported("asvspoof2019", "asvspoof2019_lookalike"))


# --- fixtures: the downloads ------------------------------------------------------------------------------


@fixture
def asvspoof2019_la(block: BlockFolder) -> None:
    """``~/data/LA``: an ASVspoof 2019 LA look-alike (its protocols and FLAC folders, A01..A19)."""
    copy(block.artefact("asvspoof2019_lookalike"), block.folder / "data" / "LA")


@fixture
def codecfake_plus_download(block: BlockFolder) -> None:
    """``~/data/CodecFake_Plus_Dataset``: a CodecFake+ look-alike as the Hub has its files
    (``Codecfake_plus_CoRS.part0``..``3``, ``CoRS_labels.txt``, ``CodecFake_plus_CoSG.tar.xz``,
    ``CoSG_labels.txt``)."""
    copy(block.artefact("codecfake_plus_lookalike"), block.folder / "data" / "CodecFake_Plus_Dataset")


@fixture
def xie_zips(block: BlockFolder) -> None:
    """``~/data/codecfake-xie``: Xie et al.'s Codecfake look-alike as Zenodo's zips (``train_split.zip`` +
    ``.z01``..., ``dev_split.zip`` + ``.z01``..., ``C1.zip`` ... ``A3.zip``, ``label/``), and
    ``~/data/Codecfake``: the same corpus extracted (``label/``, ``train/``, ``dev/``, ``test/``)."""
    copy(block.artefact("xie_split_zips"), block.folder / "data" / "codecfake-xie")
    copy(block.artefact("xie_extracted"), block.folder / "data" / "Codecfake")


@fixture
def cdd_download(block: BlockFolder) -> None:
    """``~/data/CDD``: a CDD look-alike (``asvspoof5/``, ``CoRS_*/``, ``CoSG/``), and
    ``~/data/ASVspoof5_protocols``: ASVspoof 5's protocol files for its speakers."""
    copy(block.artefact("cdd_lookalike"), block.folder / "data" / "CDD")
    (block.folder / "data" / "CDD" / "protocols").rename(block.folder / "data" / "ASVspoof5_protocols")


# --- fixtures: imported folders -----------------------------------------------------------------------------


@fixture
def imported_release(block: BlockFolder) -> None:
    """``codecfake-release/``: the release look-alike imported (``codecfake import release``)."""
    copy(block.artefact("imported_release"), block.folder / "codecfake-release")


@fixture
def imported_codecfake_plus(block: BlockFolder) -> None:
    """``codecfake-plus/``: the CodecFake+ look-alike imported (``codecfake import codecfake-plus``)."""
    copy(block.artefact("imported_codecfake_plus"), block.folder / "codecfake-plus")


@fixture
def imported_asvspoof2019(block: BlockFolder) -> None:
    """``asvspoof2019-la/``: the ASVspoof 2019 LA look-alike imported (``codecfake import asvspoof2019``)."""
    copy(block.artefact("imported_asvspoof2019"), block.folder / "asvspoof2019-la")


# --- checks of what a block wrote (run once it has run) -------------------------------------------------------


def _report(folder: Path) -> dict:
    return json.loads((folder / "build_report.json").read_text(encoding="utf-8"))


@fixture
def check_codecfake_plus_rerun(block: BlockFolder) -> None:
    """After the block: ``codecfake-plus/`` was imported once, then the two-process rerun into it kept
    every part (its parquet files are older than the ``cfplus-cors`` import between the two, its report
    newer), and ``cfplus-cors/`` holds CoRS configs only."""

    def check() -> None:
        plus, cors = block.folder / "codecfake-plus", block.folder / "cfplus-cors"
        between = (cors / "build_report.json").stat().st_mtime_ns
        parquets = sorted((plus / "data").rglob("*.parquet"))
        assert parquets and all(path.stat().st_mtime_ns < between for path in parquets), "parts rewritten"
        assert (plus / "build_report.json").stat().st_mtime_ns > between, "the rerun wrote no report"
        assert "MASKGCT" in _report(plus)["configs"] and "MASKGCT" not in _report(cors)["configs"]

    block.stack.callback(check)


@fixture
def check_xie_imports(block: BlockFolder) -> None:
    """After the block: the split zips were joined and removed, and ``xie-test/`` holds C1, C7 and A3."""

    def check() -> None:
        zips = block.folder / "data" / "codecfake-xie"
        assert not list(zips.glob("*_split.z*")) and (zips / "train.zip").is_file()
        assert set(_report(block.folder / "xie-test")["configs"]) == {"C1", "C7", "A3"}

    block.stack.callback(check)


@fixture
def check_cdd_license(block: BlockFolder) -> None:
    """After the block: ``cdd/`` was imported again with the licence stated (report and card)."""

    from huggingface_hub import DatasetCard

    def check() -> None:
        report = _report(block.folder / "cdd")
        assert report["imported"]["license"] == "cc-by-4.0", report["imported"]["license"]
        assert DatasetCard.load(block.folder / "cdd" / "README.md").data.license == ["cc-by-4.0"]

    block.stack.callback(check)


@fixture
def check_cross_corpus_matrix(block: BlockFolder) -> None:
    """After the block: ``cross-corpus/cross_test_eer.csv`` has a row per model and the columns the page
    says: ``release`` on E, A and F6, ``cfplus`` and ``la`` on their configs (ASVspoof's with a test split:
    A07..A19), ``valle`` on itself; the scores sit in ``scores/<NAME>/<model>/``."""
    import pandas as pd

    def check() -> None:
        table = pd.read_csv(block.folder / "cross-corpus" / "cross_test_eer.csv", index_col=0)
        assert len(table) == 2, table.index
        columns: dict[str, list[str]] = {}
        for column in table.columns:
            name, _, subset = column.rpartition("/")
            columns.setdefault(name or subset, []).append(subset)
        assert columns["release"] == ["E", "A", "F6"] and columns["valle"] == ["valle"], columns
        assert columns["la"] == [f"A{n:02d}" for n in range(7, 20)], columns["la"]
        cfplus = set(columns["cfplus"])
        assert {"DAC24", "bigcodec", "MASKGCT"} <= cfplus and "bonafide" not in cfplus, cfplus
        assert (block.folder / "cross-corpus" / "scores" / "la" / "E" / "scores_A07.csv").is_file()

    block.stack.callback(check)


# --- the Hub blocks (tests/docs_fixtures/hub.py's loopback Hub) -------------------------------------------

#: The speakers of the VCTK 0.80 look-alike and of the release served for it: the split speakers and two
#: train speakers, so that a build and the release share every utterance id.
COMPARED_SPEAKERS = ("p225", "p226", "p227", "p228", "p229", "p230")


@artefact("tiny_vctk_080")
def make_tiny_vctk_080(folder: Path) -> Path:
    from dataset_builder.synthetic import make_synthetic_vctk

    return make_synthetic_vctk(
        folder, layout="0.80", speakers=COMPARED_SPEAKERS, utterances_per_speaker=2, seconds=(0.3, 0.4)
    )


artefact("release_of_vctk_080")(
    _lookalike("make_release_lookalike", speakers=COMPARED_SPEAKERS, utterances_per_speaker=2)
)


@fixture
def tiny_vctk_080(block: BlockFolder) -> None:
    """``~/data/VCTK-Corpus``: a VCTK 0.80-shaped synthetic corpus (``wav48/<spk>/<utt>.wav``, 6 speakers,
    2 clips each)."""
    copy(block.artefact("tiny_vctk_080"), block.folder / "data" / "VCTK-Corpus")


@fixture
def release_on_hub(block: BlockFolder) -> None:
    """On the block's loopback Hub, the dataset ``rogertseng/CodecFake``: a release look-alike
    (``data/train-*.parquet``, ``datalist.csv``) whose utterance ids are those of ``tiny_vctk_080``."""
    from tests.docs_fixtures.hub import hub_of

    hub_of(block).seed("rogertseng/CodecFake", block.artefact("release_of_vctk_080"), repo_type="dataset")


@fixture
def check_release_pushed(block: BlockFolder) -> None:
    """After the block: the dataset ``ORG/codecfake-release`` on the loopback Hub holds the card and
    every parquet file of ``codecfake-release/``, byte for byte."""
    from tests.docs_fixtures.hub import hub_of

    hub = hub_of(block)

    def check() -> None:
        pushed = hub.files("ORG/codecfake-release", "dataset")
        local = block.folder / "codecfake-release"
        for path in [local / "README.md", *sorted((local / "data").rglob("*.parquet"))]:
            name = path.relative_to(local).as_posix()
            assert pushed.get(name) == path.read_bytes(), f"{name} not pushed as it is"

    block.stack.callback(check)


@fixture
def check_compare_tables(block: BlockFolder) -> None:
    """After the block: ``compare/compare_summary.csv`` has a line per subset of the build (bona fide and
    A..F6; the release's extra codec left out), each pairing the 4 test utterances of the build with the
    release's; ``compare-E/`` has E and bona fide, every split's 12 utterances."""
    import pandas as pd

    from dataset_builder.corpora.release import CODEC_NAMES

    def check() -> None:
        summary = pd.read_csv(block.folder / "compare" / "compare_summary.csv", index_col="subset")
        assert sorted(summary.index) == sorted(["bonafide", *CODEC_NAMES.values()]), list(summary.index)
        assert (summary["n_matched"] == 4).all() and (summary["n_only_imported"] == 0).all()
        chosen = pd.read_csv(block.folder / "compare-E" / "compare_summary.csv", index_col="subset")
        assert list(chosen.index) == ["E", "bonafide"] and (chosen["n_matched"] == 12).all()

    block.stack.callback(check)
