"""``codecfake app``: a detection page in the browser (Gradio, the optional extra ``app``)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    app = commands.add_parser(
        "app",
        help='a detection page in the browser (Gradio, optional extra: pip install -e ".[app]")',
        description="Serve a page on 127.0.0.1 where a recording (uploaded or recorded) gets each detector's "
        "verdict, probability, calibrated LLR and a timeline of its windows; the same numbers as "
        "`codecfake detect --json`.",
    )
    app.add_argument(
        "--model",
        action="append",
        required=True,
        help="detector folder or Hub id; repeat for several side by side",
    )
    app.add_argument("--port", type=int, default=None, help="port (default: 7860 or the next free one)")
    app.add_argument("--device", default="cpu", help="torch device for the detectors (default cpu)")
    app.add_argument(
        "--share", action="store_true", help="also open a public gradio.live link (off: only this machine)"
    )
    app.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codecfake_hf.app import require_gradio

    require_gradio()
    from codecfake_hf.app.local import launch_app

    launch_app(args.model, server_port=args.port, device=args.device, share=args.share)
    return 0
