"""`codecfake build` takes its build options from BuildOptions through HfArgumentParser: every field is
a flag with help text, and the command line and the library share one set of defaults."""

from __future__ import annotations

from codecfake_cli.commands import build
from codecfake_cli.main import build_parser
from dataset_builder.build_options import BuildOptions
from tests.training.test_options import check_every_field_is_described, help_text


def test_build_help_describes_every_build_option(capsys):
    text = help_text(lambda: build_parser().parse_args(["build", "--help"]), capsys)
    entries = check_every_field_is_described(text, BuildOptions)
    assert entries["--vctk"] and entries["--write-card"]


def test_the_command_line_builds_with_the_library_defaults(monkeypatch, tmp_path):
    import dataset_builder.build

    calls = []
    monkeypatch.setattr(dataset_builder.build, "build_codecfake", lambda *args, **kwargs: calls.append(args) or {
        "configs": [], "splits": {}, "excluded": [], "mixtures": {}})  # fmt: skip
    build.run(build_parser().parse_args(["build", "--vctk", str(tmp_path), "--configs", "E"]))
    build.run(build_parser().parse_args(["build", "--vctk", str(tmp_path), "--configs", "E", "--tiny",
                                      "--num-proc", "3", "--mic", "mic2", "--writer_batch_size", "7"]))  # fmt: skip
    assert [call[3] for call in calls] == [
        BuildOptions(),
        BuildOptions(tiny=True, num_proc=3, mic="mic2", writer_batch_size=7),
    ]
