"""``codecfake space``: a Hugging Face Space folder that shows a pushed detector in a browser, without
this package."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    space = commands.add_parser(
        "space",
        help="write a Hugging Face Space folder that shows a pushed detector in a browser (no codecfake-hf needed)",
    )
    space.add_argument(
        "--model", required=True, help="the detector's Hub id, ORG/NAME (pushed with push-model)"
    )
    space.add_argument(
        "--out", required=True, help="folder to write (new or empty, or one `codecfake space` wrote before)"
    )
    space.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codecfake_hf.app.space import write_space

    out = write_space(args.model, args.out)
    print(
        f"wrote the Space folder {out} for {args.model}; try it with `cd {out} && python app.py` (needs the "
        f"packages of its requirements.txt), upload it with `codecfake push-space {out} --repo ORG/NAME`"
    )
    return 0
