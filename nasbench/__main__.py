import sys

from nasbench.cli import main

sys.exit(main())
