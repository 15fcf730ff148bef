"""Graph encodings of architectures for predictors."""
from .encode import encode, encode_architectures, encode_codes

__all__ = ["encode", "encode_codes", "encode_architectures"]
