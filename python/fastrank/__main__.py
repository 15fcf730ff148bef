"""python -m fastrank: the fastrank command."""
import sys

from .cli import main

sys.exit(main())
