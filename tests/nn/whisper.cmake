# (filled in by the whisper work)
