"""The Milvus engine: the engine seam (`neardup.index.backend.Backend`) over a Milvus
database, so that several neardup servers share one index and store.

Milvus keeps each image (its id, code, quality, metadata and write time) in a Milvus
collection per neardup collection, searched exactly by Hamming distance (BIN_FLAT); the
collections' definitions live in a registry collection of their own. Nothing is kept on
the neardup server: any number of them can serve the same Milvus. pymilvus is imported
only when a `MilvusEngine` is made.
"""

from .engine import MilvusEngine

__all__ = ["MilvusEngine"]
