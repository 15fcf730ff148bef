"""The built-in strategies, one module each; importing one registers it (in this order, which
is the order ``fastrank search --help`` lists them in)."""
from . import random, predictor, evolution, acenas, proxy_validation, proxy_validation_ea  # noqa: F401,I001
from . import regularized_evolution  # noqa: F401,E402
from ..strategy import STRATEGIES

BUILT_IN = tuple(STRATEGIES)  # what the docs' options table lists (a user's strategy adds its own flags)
