"""The predictor strategy's options as the tables published before its defaults changed ran it:
no pretraining, one GCN picking by its mean (before pretraining became the default on 2026-12-06
and the Gaussian process joined the GCN on 2026-12-07). The scripts of those tables pass them, so
that a rerun reproduces the published rows. The scripts that try other options read them from
the command line as ``--variant NAME={JSON}`` (:func:`parse_variant`)."""
import json

PUBLISHED_PREDICTOR = {"pretrain": None, "gp_member": False, "acquisition": "mean"}


def parse_variant(text: str):
    """(name, options) of ``NAME={...}``: the name may hold '=' itself (``per_round=2={"per_round":
    2}``), the options are a JSON object. ValueError says what is wrong."""
    name, brace, options = text.partition("={")
    if not (name and brace):
        raise ValueError("expected NAME={...}")
    return name, json.loads("{" + options)  # json.JSONDecodeError is a ValueError
