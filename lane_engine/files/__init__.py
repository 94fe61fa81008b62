"""Readers and writers of the files a person hands the lane: plaza configuration, policy,
blacklists, and the TOML reading they share. Each error names the file and the field.
May use `core`, `fees` and the package's `config` and `errors`."""
