# (filled in by the align work)
