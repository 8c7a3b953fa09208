"""``python -m codecfake_cli build ...`` runs ``codecfake build ...`` (any ``codecfake`` command).

It is the module ``accelerate launch`` starts on every process of a multi-process or multi-machine build
or import (:mod:`dataset_builder.build_processes`)::

    accelerate launch --num_processes 8 -m codecfake_cli build --vctk VCTK-Corpus-0.92 --out codecfake \\
        --device cuda
"""

import sys

from codecfake_cli.main import main

if __name__ == "__main__":
    sys.exit(main())
