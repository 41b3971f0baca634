import sys

from embedlab.cli import main

sys.exit(main())
