import sys

from wennuan_lib.cli import command

sys.exit(command())
