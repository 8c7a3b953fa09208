"""The command lines of codecfake-hf, above both libraries: ``codecfake`` (:mod:`codecfake_cli.main`, one
module per sub-command in :mod:`codecfake_cli.commands`) and training (:mod:`codecfake_cli.train`, which
the top-level ``train.py`` runs).

Imports go one way: :mod:`codecfake_hf` (the library) <- :mod:`dataset_builder` (the builder) <- this
package; neither library imports a command (``tests/test_import_direction.py``).
"""
