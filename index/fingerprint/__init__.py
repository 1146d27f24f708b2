"""Image bytes to fingerprints: defensive decoding, the three named algorithms, the 64-bit
hash value type (and its one hex/int/bytes converter), and the 8 orientations.

It imports numpy, Pillow and scipy only (never FAISS, SQLite or gRPC): a process that only
hashes, such as `neardup hash` or a bulk-hashing worker on another machine, imports this
package alone.
"""

from .algorithms import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    Algorithm,
    ImageHashes,
    get_algorithm,
    hash_image,
)
from .decode import DEFAULT_LIMITS, SUPPORTED_FORMATS, DecodeLimits
from .digest import DIGEST_BYTES, content_digest, digest_from_hex
from .orientations import Orientation
from .thumbnail import THUMBNAIL_SIDE, make_thumbnail
from .value import (
    BITS,
    Fingerprint,
    codes_from_ints,
    codes_from_u64,
    from_sqlite,
    hamming_distance,
    ints_from_codes,
    similarity,
    to_sqlite,
    u64_from_codes,
)

__all__ = [
    "ALGORITHMS",
    "BITS",
    "DEFAULT_ALGORITHM",
    "DEFAULT_LIMITS",
    "DIGEST_BYTES",
    "SUPPORTED_FORMATS",
    "THUMBNAIL_SIDE",
    "Algorithm",
    "DecodeLimits",
    "Fingerprint",
    "ImageHashes",
    "Orientation",
    "codes_from_ints",
    "codes_from_u64",
    "content_digest",
    "digest_from_hex",
    "from_sqlite",
    "get_algorithm",
    "hamming_distance",
    "hash_image",
    "ints_from_codes",
    "make_thumbnail",
    "similarity",
    "to_sqlite",
    "u64_from_codes",
]
