import os
import sys

# The plain-torch references live with the tests; the benchmarks time against them.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
sys.path.insert(0, os.path.dirname(__file__))
