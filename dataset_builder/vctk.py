"""``python -m dataset_builder.vctk``: download VCTK 0.92 and print its split counts next to the paper's.
The corpus itself (listing, split, download) is :mod:`dataset_builder.corpora.vctk`."""

from __future__ import annotations

from dataset_builder.corpora.vctk import download_vctk, print_split_counts


def main(argv: list[str] | None = None) -> int:
    """``python -m dataset_builder.vctk [--download DIR | CORPUS]``: download, then
    :func:`print_split_counts`. A user error prints one line and returns 2, Ctrl-C one line and 130
    (``--debug``: the traceback)."""
    import argparse

    from codecfake_hf.errors import debug_requested, report_interrupted, report_user_error

    parser = argparse.ArgumentParser(
        prog="python -m dataset_builder.vctk",
        description="Download VCTK 0.92 (--download DIR) and print its split counts next to the paper's, "
        "counted as `codecfake build` counts them.",
    )
    parser.add_argument("corpus", nargs="?", help="VCTK folder (0.92 or 0.80 layout)")
    parser.add_argument("--download", metavar="DIR", help="download and extract VCTK 0.92 into DIR first")
    parser.add_argument("--mic", default="mic1", choices=("mic1", "mic2"))
    parser.add_argument("--num-proc", type=int, default=None, help="processes decoding the audio (default 1)")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of errors (also CODECFAKE_DEBUG=1)"
    )
    args = parser.parse_args(argv)
    if not args.corpus and not args.download:
        parser.error("pass a corpus folder or --download DIR")
    try:
        print_split_counts(
            download_vctk(args.download) if args.download else args.corpus, args.mic, args.num_proc
        )
    except KeyboardInterrupt:
        if debug_requested(args.debug):
            raise
    except Exception as error:
        if debug_requested(args.debug) or not report_user_error(error, parser.prog, args.download):
            raise
        return 2
    else:
        return 0
    # Ctrl-C, told once the interrupted frames (and their progress bars) are gone
    kept = (
        f"what is downloaded into {args.download} is kept; rerun the same command to go on (the download resumes)"
        if args.download
        else "nothing was written; rerun the same command"
    )
    return report_interrupted(parser.prog, kept)


if __name__ == "__main__":
    raise SystemExit(main())
