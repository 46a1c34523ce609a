# (filled in by the time work)
