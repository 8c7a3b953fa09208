"""codecfake-hf: CodecFake (codec-resynthesized VCTK + AASIST detectors) on the Hugging Face stack."""

__version__ = "0.1.0"
