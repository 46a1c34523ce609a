# (filled in by the decoder work)
