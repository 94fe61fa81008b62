"""`etc-centre`: one module per command group, each adding its parser and running its
commands. May use every room of the centre."""
