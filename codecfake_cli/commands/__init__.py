"""One module per ``codecfake`` sub-command, each with ``register(commands)`` (its sub-parser, built at
start-up, so a module imports nothing heavy at the top) and ``run(args) -> exit code`` (imports the
library or the builder when the command runs); :mod:`codecfake_cli.main` lists them in help order.
What several commands share (the scoring options, mixture specs, CSV inputs, tables) is in
:mod:`codecfake_cli.commands.shared`."""
