"""Graph encodings of architectures, graph encoders and the GCN predictor."""
from .encode import encode, encode_architectures, encode_codes
from .gcn import GCNEncoder, GINEncoder, gcn_propagate
from .predictor import GCNPredictor

__all__ = ["encode", "encode_codes", "encode_architectures", "gcn_propagate", "GCNEncoder", "GINEncoder",
           "GCNPredictor"]
