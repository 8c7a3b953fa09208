"""``codecfake taxonomy``: the codec taxonomy table, or EERs pooled by taxonomy field."""

from __future__ import annotations

import argparse

from codecfake_cli.commands.shared import read_csv


def register(commands: argparse._SubParsersAction) -> None:
    taxonomy = commands.add_parser(
        "taxonomy",
        help="codec taxonomy table, or EERs pooled by quantizer / auxiliary / decoder_domain / family",
    )
    taxonomy.add_argument(
        "results",
        nargs="?",
        default=None,
        help="cross_test_eer.csv from `codecfake matrix`, or a CSV with columns codec,eer[,...]; "
        "omitted: print the taxonomy of every registered codec",
    )
    taxonomy.add_argument("--by", default="quantizer", help="comma-separated taxonomy fields")
    taxonomy.add_argument("--value", default="eer", help="value column of a long CSV (default eer)")
    taxonomy.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codecfake_hf.evaluation.taxonomy import TaxonomyError, group_by_taxonomy, taxonomy_table
    from codecfake_hf.markdown import markdown_table

    if args.results is None:
        print(taxonomy_table())
        return 0
    path = args.results
    results = read_csv(
        path, "pass the cross_test_eer.csv of `codecfake matrix` or a CSV with columns codec,eer"
    )
    if "codec" not in results.columns:  # a cross-test matrix: first column = row labels
        results = results.set_index(results.columns[0])
    try:
        table = group_by_taxonomy(results, by=args.by.split(","), value=args.value)
    except TaxonomyError as error:
        raise TaxonomyError(f"{path}: {error}") from error
    print(markdown_table(table, float_format="{:.2f}"))
    return 0
