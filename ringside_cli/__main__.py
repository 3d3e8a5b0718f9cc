import sys

from ringside_cli.cli import main

sys.exit(main())
