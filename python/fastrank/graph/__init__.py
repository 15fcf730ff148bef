"""Graph encodings of architectures and graph encoders for predictors."""
from .encode import encode, encode_architectures, encode_codes
from .gcn import GCNEncoder, GINEncoder, gcn_propagate

__all__ = ["encode", "encode_codes", "encode_architectures", "gcn_propagate", "GCNEncoder", "GINEncoder"]
