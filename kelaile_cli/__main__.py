"""Allow ``python -m kelaile_cli``."""

from kelaile_cli.cli.app import main

main()
