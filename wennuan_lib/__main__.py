import sys

from wennuan_lib.cli import main

sys.exit(main())
