"""Train an AASIST / AASIST-L / SSL-AASIST detector on a CodecFake subset: ``accelerate launch train.py
--subset E`` (``--help`` lists every option). The command line is :mod:`codecfake_cli.train`."""

import sys

from codecfake_cli.train import main

if __name__ == "__main__":
    sys.exit(main())
