"""The one JSON reader: each way a file can be wrong is one line in the caller's error class."""

from __future__ import annotations

import pytest

from codecfake_hf.errors import InputFileError
from codecfake_hf.files.checkpoint_files import CheckpointError
from codecfake_hf.files.json_files import read_json


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "missing; rerun it"), (b"{not json", "not valid JSON (JSONDecodeError); rerun it"),
     (b"\xff\xfe\x00", "not valid JSON (UnicodeDecodeError); rerun it"),
     (b"[1, 2]", "expected a JSON object, found a list; rerun it"),
     (b'"text"', "expected a JSON object, found a str; rerun it")],
)  # fmt: skip
def test_every_kind_of_bad_file_is_one_line_naming_it(tmp_path, content, expected):
    path = tmp_path / "state.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CheckpointError) as error:
        read_json(path, "rerun it", CheckpointError)
    assert str(error.value) == f"{path}: {expected}"


def test_a_good_file_and_the_expected_kind(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"epoch": 3}')
    assert read_json(path, "fix") == {"epoch": 3}
    path.write_text("[3]")
    assert read_json(path, "fix", expected=list) == [3]
    with pytest.raises(InputFileError, match="expected a JSON object, found a list"):
        read_json(path, "fix")
