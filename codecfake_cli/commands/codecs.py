"""``codecfake codecs``: the registered codecs (CodecFake subset ids), their taxonomy and status."""

from __future__ import annotations

import argparse

from codecfake_cli.commands.shared import print_columns


def register(commands: argparse._SubParsersAction) -> None:
    listing = commands.add_parser("codecs", help="list the registered codecs (subset ids) and their status")
    listing.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codecfake_hf.codecs.registry import CODECS, implemented

    header = (
        "id",
        "family",
        "model",
        "rate_hz",
        "n_q",
        "kbps",
        "quantizer",
        "auxiliary",
        "decoder",
        "status",
    )
    rows = [header]
    for spec in CODECS.values():
        status = "ready" if implemented(spec) else "not implemented yet"
        kbps = "" if spec.kbps is None else f"{spec.kbps:g}"
        rows.append(
            (
                spec.id,
                spec.family,
                spec.model_name,
                str(spec.sampling_rate),
                str(spec.n_quantizers),
                kbps,
                spec.quantizer,
                spec.auxiliary,
                spec.decoder_domain,
                status,
            )
        )
    print_columns(rows)
    return 0
