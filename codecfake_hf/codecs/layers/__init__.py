"""The layers the natively implemented codec families (SpeechTokenizer, HiFi-Codec, AudioDec,
FunCodec) are built from; each family module holds only its architecture.

- :mod:`~codecfake_hf.codecs.layers.masking`: a zero-padded batch computed as if each row were alone
  (row lengths, per-row reflect padding, tail zeroing, GroupNorm over each row's valid frames);
- :mod:`~codecfake_hf.codecs.layers.quantization`: residual vector quantization (codebooks, groups);
- :mod:`~codecfake_hf.codecs.layers.seanet`: the length-aware SEANet encoder and decoder of the
  EnCodec lineage (SpeechTokenizer, FunCodec);
- :mod:`~codecfake_hf.codecs.layers.conv`: the weight-normalised 1-d convolutions, plain torch
  convolutions whose kernel is folded from upstream's ``weight_g`` / ``weight_v`` when loaded.
"""
