"""A build spread over the processes of ``accelerate launch -m dataset_builder build``: shard ``i`` to rank
``i mod world``, the same bytes as a one-process build, a killed process survived by relaunching, and
errors reported once (a shared one) or by the process that met it (its own)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from codecfake_hf.errors import ProcessError, report_user_error
from dataset_builder import DatasetBuildError
from dataset_builder.build_options import BuildOptions
from dataset_builder.build_processes import BuildProcesses, ProcessBuildError
from dataset_builder.synthetic import make_synthetic_vctk

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD = ["build", "--tiny", "--configs", "E,A,D1", "--shard_size", "2", "--batch_size", "4"]
#: 6 speakers x 3 utterances in shards of 2: 3 shards per split, 9 per config, 36 in the build
SHARDS = 36


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return make_synthetic_vctk(
        tmp_path_factory.mktemp("vctk") / "VCTK-Corpus-0.92",
        speakers=("p225", "p226", "p227", "p228", "p229", "p315"),
        utterances_per_speaker=3,
        seconds=(0.3, 0.6),
    )


def _one_process(args: list[str]) -> subprocess.CompletedProcess:
    """``python -m dataset_builder ARGS``, not launched, with the launched processes' one torch thread."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
    command = [sys.executable, "-m", "dataset_builder", *args]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> Path:
    """The one-process build every launched build must equal."""
    out = tmp_path_factory.mktemp("one-process") / "codecfake"
    result = _one_process([*BUILD, "--vctk", str(corpus), "--out", str(out)])
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def _launch(accelerate_launch, corpus: Path, out: Path, log: Path, processes: int = 2) -> subprocess.Popen:
    command, environment = accelerate_launch(
        ["--multi_gpu", "--num_processes", str(processes)],
        [*BUILD, "--vctk", str(corpus), "--out", str(out)],
        module="dataset_builder",
    )
    with log.open("w") as handle:  # a file, not a pipe: the progress bars would fill a pipe and block
        return subprocess.Popen(command, env=environment, stdout=handle, stderr=subprocess.STDOUT, text=True)


def _files(folder: Path) -> dict[str, bytes]:
    """Every file the build publishes (all but its ``.build/`` cache): relative path -> bytes."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".build" not in path.relative_to(folder).parts
    }


def _rank(process: psutil.Process) -> str | None:
    """The ``RANK`` a launched worker was started with (None: not a worker, or gone)."""
    try:
        environment = process.environ()
    except psutil.Error:
        return None
    return environment.get("RANK") if "LOCAL_RANK" in environment else None


def test_two_processes_write_the_bytes_of_one(accelerate_launch, corpus, reference, tmp_path):
    out = tmp_path / "codecfake"
    process = _launch(accelerate_launch, corpus, out, tmp_path / "log")
    assert process.wait(timeout=600) == 0, (tmp_path / "log").read_text()[-3000:]
    log = (tmp_path / "log").read_text()
    # each process did its half of the build's shards (shard i on rank i mod 2); one of them reports
    assert f"process 0 of 2: {SHARDS // 2} of the build's {SHARDS} shards" in log
    assert f"process 1 of 2: {SHARDS // 2} of the build's {SHARDS} shards" in log
    assert log.count("wrote ") == 1
    expected = _files(reference)
    assert len([name for name in expected if name.endswith(".parquet")]) == SHARDS
    built = _files(out)
    assert sorted(built) == sorted(expected)
    for name, content in expected.items():  # parquet shards (rows and FLAC audio), README.md, report
        assert built[name] == content, name
    assert not (out / ".build" / "E").exists()  # the main process removed the shards' scratch

    import datasets

    dataset = datasets.load_dataset(str(out), "E", split="train")
    assert sorted(set(dataset["codec"])) == ["E", "bonafide"] and len(dataset) == 12


def test_a_killed_process_is_completed_by_relaunching(accelerate_launch, corpus, reference, tmp_path):
    out = tmp_path / "codecfake"
    process = _launch(accelerate_launch, corpus, out, tmp_path / "killed.log")
    deadline = time.monotonic() + 300
    while not list(out.glob("data/A/*.parquet")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the build ended before a process could be killed"
    (rank_1,) = [
        child for child in psutil.Process(process.pid).children(recursive=True) if _rank(child) == "1"
    ]
    rank_1.send_signal(signal.SIGKILL)
    assert process.wait(timeout=300) != 0  # the launcher stops the other process and fails
    assert not (out / "build_report.json").exists() and not (out / "README.md").exists()
    assert len(list(out.glob("data/*/*.parquet"))) < SHARDS

    relaunched = _launch(accelerate_launch, corpus, out, tmp_path / "relaunched.log")
    assert relaunched.wait(timeout=600) == 0, (tmp_path / "relaunched.log").read_text()[-3000:]
    assert _files(out) == _files(reference)
    assert not list(out.rglob("*.tmp")) and not list(out.rglob("*.parquet.tmp"))
    assert not [path for path in (out / ".build").iterdir() if path.name in ("bonafide", "E", "A", "D1")]

    # a third launch finds every shard done: nothing is rewritten
    written = {path: path.stat().st_mtime_ns for path in out.glob("data/*/*.parquet")}
    again = _launch(accelerate_launch, corpus, out, tmp_path / "again.log")
    assert again.wait(timeout=600) == 0, (tmp_path / "again.log").read_text()[-3000:]
    assert {path: path.stat().st_mtime_ns for path in out.glob("data/*/*.parquet")} == written
    assert _files(out) == _files(reference)


def test_a_dataset_source_builds_alike_on_two_processes(accelerate_launch, corpus, tmp_path):
    """A Hugging Face dataset holding its audio (``save_to_disk``): the main process lists it and writes its
    audio into the build cache; two processes then write the bytes one process wrote in the same folder."""
    import datasets

    rows = [
        {
            "audio": {"bytes": path.read_bytes(), "path": path.name},
            "speaker_id": path.parent.name,
            "text": "hi",
        }
        for path in sorted(corpus.glob("wav48_silence_trimmed/*/*.flac"))
    ]
    saved = tmp_path / "saved"
    datasets.Dataset.from_list(rows).cast_column("audio", datasets.Audio()).save_to_disk(str(saved))
    out = tmp_path / "codecfake"
    build = ["build", "--tiny", "--shard_size", "2", "--batch_size", "4", "--subsets", "E", "--out", str(out),
             "--source", f"hf:{saved}", "--source-license", "cc-by-4.0"]  # fmt: skip
    result = _one_process(build)
    assert result.returncode == 0, result.stderr[-3000:]
    expected = _files(out)
    for published in ("data", "README.md", "build_report.json"):  # the audio taken out of the dataset stays
        shutil.rmtree(out / published) if published == "data" else (out / published).unlink()

    command, environment = accelerate_launch(
        ["--multi_gpu", "--num_processes", "2"], build, "dataset_builder"
    )
    launched = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert "process 1 of 2: " in launched.stderr and (out / ".build" / "corpus.json").is_file()
    assert _files(out) == expected


def test_an_error_every_process_meets_is_reported_once(accelerate_launch, tmp_path):
    process = _launch(accelerate_launch, tmp_path / "no-such-corpus", tmp_path / "out", tmp_path / "log")
    assert process.wait(timeout=300) != 0
    log = (tmp_path / "log").read_text()
    assert log.count("codecfake build: error:") == 1, log[-3000:]
    assert "no-such-corpus" in log


class _NoBarriers:
    """Stands in for Accelerate's state of a launched build: its barriers return at once."""

    def wait_for_everyone(self) -> None:
        pass

    @contextlib.contextmanager
    def main_process_first(self):
        yield

    local_main_process_first = main_process_first


@pytest.mark.parametrize("source", ["vctk", "audiofolder"])
def test_only_the_main_process_lists_the_corpus(source, corpus, tmp_path, monkeypatch):
    from dataset_builder import build as build_module
    from dataset_builder.build_options import BuildOptions
    from dataset_builder.source_options import SourceOptions

    if source == "audiofolder":
        folder = tmp_path / "corpus"
        folder.mkdir()
        lines = ["file_name,speaker_id,text"]
        for index, path in enumerate(sorted(corpus.glob("wav48_silence_trimmed/*/*.flac"))[:6]):
            (folder / f"{index}.flac").write_bytes(path.read_bytes())
            lines.append(f"{index}.flac,s{index % 3},text {index}")
        (folder / "metadata.csv").write_text("\n".join(lines) + "\n")
        where = SourceOptions(source=f"audiofolder:{folder}", source_license="cc-by-4.0")
    else:
        where = SourceOptions.of(corpus)
    cache = tmp_path / ".build"
    main = BuildProcesses(0, 2, 0, state=_NoBarriers())
    listed = build_module.list_corpus(where, cache, BuildOptions(), main)
    assert (cache / build_module.CORPUS_LIST).is_file()

    def not_again(*args, **kwargs):
        raise AssertionError("a process other than the main one listed the corpus")

    monkeypatch.setattr(build_module, "prepare_source", not_again)
    other = build_module.list_corpus(
        where, cache, BuildOptions(), BuildProcesses(1, 2, 1, state=_NoBarriers())
    )
    assert type(other) is type(listed) and other == listed  # root, utterances, speakers or source alike
    assert other.report_entry() == listed.report_entry() and other.counts() == listed.counts()


def test_shard_i_goes_to_rank_i_mod_world():
    items = list(range(10))
    shares = [BuildProcesses(rank, 3, rank, state=object()).share(items) for rank in range(3)]
    assert shares == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    assert BuildProcesses().share(items) == items  # not launched: everything here


def test_each_launched_process_runs_on_its_local_gpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    launched = BuildProcesses(rank=5, world=8, local_rank=1, state=object())
    options = launched.own_options(BuildOptions(device="cuda"))
    assert options.device == "cuda:1" and options.num_proc == 1 and options.map_num_proc(100) is None
    sixth = BuildProcesses(rank=5, world=8, local_rank=5, state=object())
    assert sixth.own_options(BuildOptions(device="cuda")).device == "cuda:1"  # 8 processes on 4 GPUs: shared
    assert (
        launched.own_options(BuildOptions(device="cpu", num_proc=4)).num_proc == 4
    )  # an explicit choice stays
    assert launched.own_options(BuildOptions(device="cuda:0")).device == "cuda:0"
    alone = BuildOptions(device="cuda", num_proc=None)
    assert BuildProcesses().own_options(alone) is alone  # not launched: map's processes as before


def test_not_launched_is_one_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    processes = BuildProcesses.current()
    assert (processes.rank, processes.world, processes.is_main, processes.state) == (0, 1, True, None)
    with processes.main_first():  # no barriers to wait at
        processes.wait_for_everyone()


def test_a_process_names_itself_in_an_error_only_it_met(monkeypatch, capsys):
    launched = BuildProcesses(rank=1, world=2, local_rank=1, state=object())
    with pytest.raises(
        ProcessBuildError, match="^process 1 of 2: codec E failed on utterance p226_002"
    ) as raised:
        with launched.failure_named():
            raise DatasetBuildError("codec E failed on utterance p226_002: RuntimeError: boom")
    assert isinstance(raised.value, DatasetBuildError)  # callers catching build errors still catch it
    with pytest.raises(DatasetBuildError, match="^codec E"), BuildProcesses().failure_named():
        raise DatasetBuildError("codec E failed")  # not launched: unchanged

    monkeypatch.setenv("RANK", "1")  # a process other than the main one prints only its own errors
    assert report_user_error(DatasetBuildError("shared"), "codecfake build")
    assert report_user_error(raised.value, "codecfake build")
    assert capsys.readouterr().err == "codecfake build: error: process 1 of 2: codec E failed on utterance " \
        "p226_002: RuntimeError: boom\n"  # fmt: skip
    monkeypatch.setenv("RANK", "0")
    assert report_user_error(DatasetBuildError("shared"), "codecfake build")
    assert capsys.readouterr().err == "codecfake build: error: shared\n"
    assert issubclass(ProcessBuildError, ProcessError)


def _as_process(monkeypatch, rank: int, world: int = 2) -> None:
    """Make ``build_codecfake`` run as process ``rank`` of a launch of ``world`` (barriers return at once)."""
    monkeypatch.setattr(
        BuildProcesses,
        "current",
        classmethod(lambda cls: BuildProcesses(rank, world, rank, state=_NoBarriers())),
    )


def test_a_launch_publishes_only_when_every_planned_shard_is_there(corpus, tmp_path, monkeypatch):
    """The main process checks every planned shard (fingerprint and rows) before it writes card and report:
    a process that wrote nothing, or one whose --out is another folder, makes the launch fail naming the
    missing shards; once they are written, the same launch publishes."""
    from dataset_builder.build import build_codecfake
    from dataset_builder.build_report import read_build_report

    options = BuildOptions(tiny=True, shard_size=2, batch_size=4)
    out = tmp_path / "shared"
    _as_process(monkeypatch, 0)  # process 1 wrote nothing (its --out was elsewhere, or it never ran)
    with pytest.raises(DatasetBuildError) as raised:
        build_codecfake(corpus, out, ["E"], options)
    message = str(raised.value)
    assert "\n" not in message
    assert "9 of the build's 18 planned shards are missing or incomplete" in message
    assert "data/bonafide/train-00001-of-00003.parquet" in message  # plan item 1: process 1's
    assert "process(es) 1 of 2 had them to write" in message and "--out must be one folder" in message
    assert not (out / "README.md").exists() and not (out / "build_report.json").exists()
    assert len(list(out.glob("data/*/*.parquet"))) == 9  # process 0's half, kept for the relaunch

    _as_process(monkeypatch, 1)  # process 1 on a machine whose --out is its own local folder
    with pytest.raises(
        ProcessBuildError, match=r"^process 1 of 2: .*corpus\.json: not found.*--out must be one"
    ):
        build_codecfake(corpus, tmp_path / "local", ["E"], options)

    with pytest.raises(DatasetBuildError, match="build_report.json: missing"):  # writes its half, then
        build_codecfake(corpus, out, ["E"], options)  # looks for the report process 0 has not written yet
    shard = out / "data" / "E" / "train-00000-of-00003.parquet"  # plan item 9: process 1's
    shard.write_bytes(shard.read_bytes()[:-100])  # a truncated shard counts as missing too
    _as_process(monkeypatch, 0)
    with pytest.raises(DatasetBuildError, match=f"1 of the build's 18 planned shards .*data/E/{shard.name}"):
        build_codecfake(corpus, out, ["E"], options)
    shard.unlink()
    monkeypatch.undo()  # a plain run redoes the missing shard and publishes
    report = build_codecfake(corpus, out, ["E"], options)
    assert report["configs"] == ["bonafide", "E"] and read_build_report(out) == report
    assert (out / "README.md").is_file() and len(list(out.glob("data/*/*.parquet"))) == 18
