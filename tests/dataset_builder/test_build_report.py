"""build_report.json has one writer and one reader (dataset_builder.build_report): the build writes
it, and the next build, the push and the card read it back; a damaged report is a one-line error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from codecfake_cli.main import main
from dataset_builder import DatasetBuildError
from dataset_builder.build_report import read_build_report, write_build_report


def test_the_report_reads_back_as_written(bonafide_build, tmp_path):
    report = read_build_report(bonafide_build)
    assert report == json.loads((bonafide_build / "build_report.json").read_text())
    assert report["configs"] == ["bonafide"] and set(report["splits"]) == {"train", "validation", "test"}
    write_build_report(tmp_path, report)
    assert (tmp_path / "build_report.json").read_bytes() == (
        bonafide_build / "build_report.json"
    ).read_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["build_report.json"]  # no temporary file


@pytest.mark.parametrize(
    ("content", "expected"),
    [("{", "not valid JSON (JSONDecodeError); "),
     ('{"configs": ["bonafide"], "tiny_codecs": "no"}',
      "not a build report (missing or wrong: vctk, tiny_codecs, splits, excluded, untranscribed, build_version, "
      "mixtures)")],
)  # fmt: skip
def test_a_damaged_report_stops_the_push_with_one_line(bonafide_build, tmp_path, capsys, content, expected):
    folder = Path(shutil.copytree(bonafide_build, tmp_path / "codecfake"))
    (folder / "build_report.json").write_text(content)
    with pytest.raises(DatasetBuildError, match="rerun `codecfake build` into this folder"):
        read_build_report(folder)
    assert main(["push", str(folder), "--repo", "org/codecfake"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"codecfake push: error: {folder / 'build_report.json'}: {expected}")
