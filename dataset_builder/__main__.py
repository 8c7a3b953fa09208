"""``python -m dataset_builder build ...`` runs ``codecfake build ...`` (any ``codecfake`` command).

It is the entry point ``accelerate launch`` starts on every process of a multi-process or multi-machine
build (:mod:`dataset_builder.build_processes`)::

    accelerate launch --num_processes 8 -m dataset_builder build --vctk VCTK-Corpus-0.92 --out codecfake \\
        --device cuda
"""

import sys

from codecfake_hf.cli import main

if __name__ == "__main__":
    sys.exit(main())
