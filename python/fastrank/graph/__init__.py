"""Graph encodings of architectures, graph encoders, the GCN predictor and the graph autoencoder."""
from .encoding import encode, encode_architectures, encode_codes
from .gae import GAE, GAEEncoder
from .gcn import GCNEncoder, GINEncoder, gcn_propagate
from .predictor import GCNPredictor

__all__ = ["GAE", "GAEEncoder", "encode", "encode_codes", "encode_architectures", "gcn_propagate", "GCNEncoder", "GINEncoder",
           "GCNPredictor"]
