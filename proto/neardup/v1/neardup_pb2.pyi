from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Orientation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORIENTATION_IDENTITY: _ClassVar[Orientation]
    ORIENTATION_ROTATE_90: _ClassVar[Orientation]
    ORIENTATION_ROTATE_180: _ClassVar[Orientation]
    ORIENTATION_ROTATE_270: _ClassVar[Orientation]
    ORIENTATION_MIRROR: _ClassVar[Orientation]
    ORIENTATION_MIRROR_ROTATE_90: _ClassVar[Orientation]
    ORIENTATION_MIRROR_ROTATE_180: _ClassVar[Orientation]
    ORIENTATION_MIRROR_ROTATE_270: _ClassVar[Orientation]

class SearchPath(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEARCH_PATH_UNSPECIFIED: _ClassVar[SearchPath]
    SEARCH_PATH_EXACT: _ClassVar[SearchPath]
    SEARCH_PATH_HNSW: _ClassVar[SearchPath]
    SEARCH_PATH_TABLES: _ClassVar[SearchPath]

class OnExistingId(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ON_EXISTING_ID_ERROR: _ClassVar[OnExistingId]
    ON_EXISTING_ID_REPLACE: _ClassVar[OnExistingId]
    ON_EXISTING_ID_SKIP: _ClassVar[OnExistingId]

class AddOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ADD_OUTCOME_UNSPECIFIED: _ClassVar[AddOutcome]
    ADD_OUTCOME_ADDED: _ClassVar[AddOutcome]
    ADD_OUTCOME_REPLACED: _ClassVar[AddOutcome]
    ADD_OUTCOME_REJECTED_DUPLICATE: _ClassVar[AddOutcome]
    ADD_OUTCOME_SKIPPED_EXISTING: _ClassVar[AddOutcome]
ORIENTATION_IDENTITY: Orientation
ORIENTATION_ROTATE_90: Orientation
ORIENTATION_ROTATE_180: Orientation
ORIENTATION_ROTATE_270: Orientation
ORIENTATION_MIRROR: Orientation
ORIENTATION_MIRROR_ROTATE_90: Orientation
ORIENTATION_MIRROR_ROTATE_180: Orientation
ORIENTATION_MIRROR_ROTATE_270: Orientation
SEARCH_PATH_UNSPECIFIED: SearchPath
SEARCH_PATH_EXACT: SearchPath
SEARCH_PATH_HNSW: SearchPath
SEARCH_PATH_TABLES: SearchPath
ON_EXISTING_ID_ERROR: OnExistingId
ON_EXISTING_ID_REPLACE: OnExistingId
ON_EXISTING_ID_SKIP: OnExistingId
ADD_OUTCOME_UNSPECIFIED: AddOutcome
ADD_OUTCOME_ADDED: AddOutcome
ADD_OUTCOME_REPLACED: AddOutcome
ADD_OUTCOME_REJECTED_DUPLICATE: AddOutcome
ADD_OUTCOME_SKIPPED_EXISTING: AddOutcome

class Fingerprint(_message.Message):
    __slots__ = ("hex", "algorithm")
    HEX_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    hex: str
    algorithm: str
    def __init__(self, hex: _Optional[str] = ..., algorithm: _Optional[str] = ...) -> None: ...

class CreateCollectionRequest(_message.Message):
    __slots__ = ("name", "algorithm", "default_radius", "index", "min_quality", "crop_hashes", "thumbnails", "orientations")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_RADIUS_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    MIN_QUALITY_FIELD_NUMBER: _ClassVar[int]
    CROP_HASHES_FIELD_NUMBER: _ClassVar[int]
    THUMBNAILS_FIELD_NUMBER: _ClassVar[int]
    ORIENTATIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    algorithm: str
    default_radius: int
    index: IndexParams
    min_quality: int
    crop_hashes: bool
    thumbnails: bool
    orientations: bool
    def __init__(self, name: _Optional[str] = ..., algorithm: _Optional[str] = ..., default_radius: _Optional[int] = ..., index: _Optional[_Union[IndexParams, _Mapping]] = ..., min_quality: _Optional[int] = ..., crop_hashes: _Optional[bool] = ..., thumbnails: _Optional[bool] = ..., orientations: _Optional[bool] = ...) -> None: ...

class IndexParams(_message.Message):
    __slots__ = ("hnsw_m", "ef_construction", "ef_search", "exact_threshold", "hnsw_max_codes", "substring_tables_min_codes", "kind")
    HNSW_M_FIELD_NUMBER: _ClassVar[int]
    EF_CONSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    EF_SEARCH_FIELD_NUMBER: _ClassVar[int]
    EXACT_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    HNSW_MAX_CODES_FIELD_NUMBER: _ClassVar[int]
    SUBSTRING_TABLES_MIN_CODES_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    hnsw_m: int
    ef_construction: int
    ef_search: int
    exact_threshold: int
    hnsw_max_codes: int
    substring_tables_min_codes: int
    kind: str
    def __init__(self, hnsw_m: _Optional[int] = ..., ef_construction: _Optional[int] = ..., ef_search: _Optional[int] = ..., exact_threshold: _Optional[int] = ..., hnsw_max_codes: _Optional[int] = ..., substring_tables_min_codes: _Optional[int] = ..., kind: _Optional[str] = ...) -> None: ...

class Collection(_message.Message):
    __slots__ = ("name", "algorithm", "default_radius", "image_count", "index", "created_unix_ms", "min_quality", "crop_hashes", "thumbnails", "orientations")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_RADIUS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    MIN_QUALITY_FIELD_NUMBER: _ClassVar[int]
    CROP_HASHES_FIELD_NUMBER: _ClassVar[int]
    THUMBNAILS_FIELD_NUMBER: _ClassVar[int]
    ORIENTATIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    algorithm: str
    default_radius: int
    image_count: int
    index: IndexParams
    created_unix_ms: int
    min_quality: int
    crop_hashes: bool
    thumbnails: bool
    orientations: bool
    def __init__(self, name: _Optional[str] = ..., algorithm: _Optional[str] = ..., default_radius: _Optional[int] = ..., image_count: _Optional[int] = ..., index: _Optional[_Union[IndexParams, _Mapping]] = ..., created_unix_ms: _Optional[int] = ..., min_quality: _Optional[int] = ..., crop_hashes: _Optional[bool] = ..., thumbnails: _Optional[bool] = ..., orientations: _Optional[bool] = ...) -> None: ...

class ListCollectionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCollectionsResponse(_message.Message):
    __slots__ = ("collections",)
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[Collection]
    def __init__(self, collections: _Optional[_Iterable[_Union[Collection, _Mapping]]] = ...) -> None: ...

class DropCollectionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DropCollectionResponse(_message.Message):
    __slots__ = ("images_removed",)
    IMAGES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    images_removed: int
    def __init__(self, images_removed: _Optional[int] = ...) -> None: ...

class StatsRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class StatsResponse(_message.Message):
    __slots__ = ("collection", "code_count", "dead_slots", "index_kind", "default_top_k_path", "store_sequence", "snapshot_sequence", "snapshot_age_seconds", "index_memory_bytes", "snapshot_bytes", "default_radius_path", "search_paths_note")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    CODE_COUNT_FIELD_NUMBER: _ClassVar[int]
    DEAD_SLOTS_FIELD_NUMBER: _ClassVar[int]
    INDEX_KIND_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TOP_K_PATH_FIELD_NUMBER: _ClassVar[int]
    STORE_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    INDEX_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_BYTES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_RADIUS_PATH_FIELD_NUMBER: _ClassVar[int]
    SEARCH_PATHS_NOTE_FIELD_NUMBER: _ClassVar[int]
    collection: Collection
    code_count: int
    dead_slots: int
    index_kind: str
    default_top_k_path: SearchPath
    store_sequence: int
    snapshot_sequence: int
    snapshot_age_seconds: float
    index_memory_bytes: int
    snapshot_bytes: int
    default_radius_path: SearchPath
    search_paths_note: str
    def __init__(self, collection: _Optional[_Union[Collection, _Mapping]] = ..., code_count: _Optional[int] = ..., dead_slots: _Optional[int] = ..., index_kind: _Optional[str] = ..., default_top_k_path: _Optional[_Union[SearchPath, str]] = ..., store_sequence: _Optional[int] = ..., snapshot_sequence: _Optional[int] = ..., snapshot_age_seconds: _Optional[float] = ..., index_memory_bytes: _Optional[int] = ..., snapshot_bytes: _Optional[int] = ..., default_radius_path: _Optional[_Union[SearchPath, str]] = ..., search_paths_note: _Optional[str] = ...) -> None: ...

class HashRequest(_message.Message):
    __slots__ = ("image", "algorithm", "orientations", "crops")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    ORIENTATIONS_FIELD_NUMBER: _ClassVar[int]
    CROPS_FIELD_NUMBER: _ClassVar[int]
    image: bytes
    algorithm: str
    orientations: bool
    crops: bool
    def __init__(self, image: _Optional[bytes] = ..., algorithm: _Optional[str] = ..., orientations: _Optional[bool] = ..., crops: _Optional[bool] = ...) -> None: ...

class HashResponse(_message.Message):
    __slots__ = ("hash", "orientation_hashes", "width", "height", "format", "quality", "crop_hashes", "digest")
    HASH_FIELD_NUMBER: _ClassVar[int]
    ORIENTATION_HASHES_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    CROP_HASHES_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    hash: Fingerprint
    orientation_hashes: _containers.RepeatedCompositeFieldContainer[Fingerprint]
    width: int
    height: int
    format: str
    quality: int
    crop_hashes: _containers.RepeatedCompositeFieldContainer[Fingerprint]
    digest: str
    def __init__(self, hash: _Optional[_Union[Fingerprint, _Mapping]] = ..., orientation_hashes: _Optional[_Iterable[_Union[Fingerprint, _Mapping]]] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., format: _Optional[str] = ..., quality: _Optional[int] = ..., crop_hashes: _Optional[_Iterable[_Union[Fingerprint, _Mapping]]] = ..., digest: _Optional[str] = ...) -> None: ...

class CompareOperand(_message.Message):
    __slots__ = ("image", "hash")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    image: bytes
    hash: Fingerprint
    def __init__(self, image: _Optional[bytes] = ..., hash: _Optional[_Union[Fingerprint, _Mapping]] = ...) -> None: ...

class CompareRequest(_message.Message):
    __slots__ = ("a", "b", "algorithm", "orientations")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    ORIENTATIONS_FIELD_NUMBER: _ClassVar[int]
    a: CompareOperand
    b: CompareOperand
    algorithm: str
    orientations: bool
    def __init__(self, a: _Optional[_Union[CompareOperand, _Mapping]] = ..., b: _Optional[_Union[CompareOperand, _Mapping]] = ..., algorithm: _Optional[str] = ..., orientations: _Optional[bool] = ...) -> None: ...

class CompareResponse(_message.Message):
    __slots__ = ("distance", "similarity", "a", "b", "orientation")
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    ORIENTATION_FIELD_NUMBER: _ClassVar[int]
    distance: int
    similarity: float
    a: Fingerprint
    b: Fingerprint
    orientation: Orientation
    def __init__(self, distance: _Optional[int] = ..., similarity: _Optional[float] = ..., a: _Optional[_Union[Fingerprint, _Mapping]] = ..., b: _Optional[_Union[Fingerprint, _Mapping]] = ..., orientation: _Optional[_Union[Orientation, str]] = ...) -> None: ...

class AddRequest(_message.Message):
    __slots__ = ("collection", "id", "image", "hash", "metadata", "on_existing_id", "duplicate_radius", "reject_duplicates", "max_duplicates", "quality", "crop_hashes", "thumbnail", "digest")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ON_EXISTING_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_RADIUS_FIELD_NUMBER: _ClassVar[int]
    REJECT_DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    MAX_DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    CROP_HASHES_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    collection: str
    id: str
    image: bytes
    hash: Fingerprint
    metadata: _containers.ScalarMap[str, str]
    on_existing_id: OnExistingId
    duplicate_radius: int
    reject_duplicates: bool
    max_duplicates: int
    quality: int
    crop_hashes: _containers.RepeatedCompositeFieldContainer[Fingerprint]
    thumbnail: bytes
    digest: str
    def __init__(self, collection: _Optional[str] = ..., id: _Optional[str] = ..., image: _Optional[bytes] = ..., hash: _Optional[_Union[Fingerprint, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., on_existing_id: _Optional[_Union[OnExistingId, str]] = ..., duplicate_radius: _Optional[int] = ..., reject_duplicates: _Optional[bool] = ..., max_duplicates: _Optional[int] = ..., quality: _Optional[int] = ..., crop_hashes: _Optional[_Iterable[_Union[Fingerprint, _Mapping]]] = ..., thumbnail: _Optional[bytes] = ..., digest: _Optional[str] = ...) -> None: ...

class AddResponse(_message.Message):
    __slots__ = ("outcome", "image", "duplicates", "quality_note")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    QUALITY_NOTE_FIELD_NUMBER: _ClassVar[int]
    outcome: AddOutcome
    image: StoredImage
    duplicates: _containers.RepeatedCompositeFieldContainer[Match]
    quality_note: str
    def __init__(self, outcome: _Optional[_Union[AddOutcome, str]] = ..., image: _Optional[_Union[StoredImage, _Mapping]] = ..., duplicates: _Optional[_Iterable[_Union[Match, _Mapping]]] = ..., quality_note: _Optional[str] = ...) -> None: ...

class ItemError(_message.Message):
    __slots__ = ("code", "message", "field")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    field: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., field: _Optional[str] = ...) -> None: ...

class AddStreamResponse(_message.Message):
    __slots__ = ("index", "id", "added", "error")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    ADDED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    index: int
    id: str
    added: AddResponse
    error: ItemError
    def __init__(self, index: _Optional[int] = ..., id: _Optional[str] = ..., added: _Optional[_Union[AddResponse, _Mapping]] = ..., error: _Optional[_Union[ItemError, _Mapping]] = ...) -> None: ...

class DeleteRequest(_message.Message):
    __slots__ = ("collection", "ids")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, collection: _Optional[str] = ..., ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteResponse(_message.Message):
    __slots__ = ("deleted", "not_found")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    NOT_FOUND_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    not_found: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, deleted: _Optional[int] = ..., not_found: _Optional[_Iterable[str]] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("collection", "image", "hash", "id", "k", "max_distance", "orientations", "exact", "include_metadata", "exclude_self", "query_quality", "crop_hashes", "digest")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    MAX_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    ORIENTATIONS_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_METADATA_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_SELF_FIELD_NUMBER: _ClassVar[int]
    QUERY_QUALITY_FIELD_NUMBER: _ClassVar[int]
    CROP_HASHES_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    collection: str
    image: bytes
    hash: Fingerprint
    id: str
    k: int
    max_distance: int
    orientations: bool
    exact: bool
    include_metadata: bool
    exclude_self: bool
    query_quality: int
    crop_hashes: _containers.RepeatedCompositeFieldContainer[Fingerprint]
    digest: str
    def __init__(self, collection: _Optional[str] = ..., image: _Optional[bytes] = ..., hash: _Optional[_Union[Fingerprint, _Mapping]] = ..., id: _Optional[str] = ..., k: _Optional[int] = ..., max_distance: _Optional[int] = ..., orientations: _Optional[bool] = ..., exact: _Optional[bool] = ..., include_metadata: _Optional[bool] = ..., exclude_self: _Optional[bool] = ..., query_quality: _Optional[int] = ..., crop_hashes: _Optional[_Iterable[_Union[Fingerprint, _Mapping]]] = ..., digest: _Optional[str] = ...) -> None: ...

class Match(_message.Message):
    __slots__ = ("id", "hash", "distance", "similarity", "orientation", "metadata", "quality", "via_crop", "identical")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    ORIENTATION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    VIA_CROP_FIELD_NUMBER: _ClassVar[int]
    IDENTICAL_FIELD_NUMBER: _ClassVar[int]
    id: str
    hash: Fingerprint
    distance: int
    similarity: float
    orientation: Orientation
    metadata: _containers.ScalarMap[str, str]
    quality: int
    via_crop: bool
    identical: bool
    def __init__(self, id: _Optional[str] = ..., hash: _Optional[_Union[Fingerprint, _Mapping]] = ..., distance: _Optional[int] = ..., similarity: _Optional[float] = ..., orientation: _Optional[_Union[Orientation, str]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., quality: _Optional[int] = ..., via_crop: _Optional[bool] = ..., identical: _Optional[bool] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("matches", "path", "query", "truncated", "quality_note", "query_quality")
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    QUALITY_NOTE_FIELD_NUMBER: _ClassVar[int]
    QUERY_QUALITY_FIELD_NUMBER: _ClassVar[int]
    matches: _containers.RepeatedCompositeFieldContainer[Match]
    path: SearchPath
    query: Fingerprint
    truncated: bool
    quality_note: str
    query_quality: int
    def __init__(self, matches: _Optional[_Iterable[_Union[Match, _Mapping]]] = ..., path: _Optional[_Union[SearchPath, str]] = ..., query: _Optional[_Union[Fingerprint, _Mapping]] = ..., truncated: _Optional[bool] = ..., quality_note: _Optional[str] = ..., query_quality: _Optional[int] = ...) -> None: ...

class SearchBatchRequest(_message.Message):
    __slots__ = ("queries",)
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    queries: _containers.RepeatedCompositeFieldContainer[SearchRequest]
    def __init__(self, queries: _Optional[_Iterable[_Union[SearchRequest, _Mapping]]] = ...) -> None: ...

class SearchResult(_message.Message):
    __slots__ = ("response", "error")
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    response: SearchResponse
    error: ItemError
    def __init__(self, response: _Optional[_Union[SearchResponse, _Mapping]] = ..., error: _Optional[_Union[ItemError, _Mapping]] = ...) -> None: ...

class SearchBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SearchResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SearchResult, _Mapping]]] = ...) -> None: ...

class GetRequest(_message.Message):
    __slots__ = ("collection", "id")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    collection: str
    id: str
    def __init__(self, collection: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class GetManyRequest(_message.Message):
    __slots__ = ("collection", "ids", "include_metadata", "include_thumbnails")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_METADATA_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_THUMBNAILS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    ids: _containers.RepeatedScalarFieldContainer[str]
    include_metadata: bool
    include_thumbnails: bool
    def __init__(self, collection: _Optional[str] = ..., ids: _Optional[_Iterable[str]] = ..., include_metadata: _Optional[bool] = ..., include_thumbnails: _Optional[bool] = ...) -> None: ...

class GetManyResponse(_message.Message):
    __slots__ = ("images",)
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[StoredImage]
    def __init__(self, images: _Optional[_Iterable[_Union[StoredImage, _Mapping]]] = ...) -> None: ...

class StoredImage(_message.Message):
    __slots__ = ("collection", "id", "hash", "metadata", "sequence", "added_unix_ms", "quality", "crop_hashes", "thumbnail", "digest")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ADDED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    CROP_HASHES_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    collection: str
    id: str
    hash: Fingerprint
    metadata: _containers.ScalarMap[str, str]
    sequence: int
    added_unix_ms: int
    quality: int
    crop_hashes: _containers.RepeatedCompositeFieldContainer[Fingerprint]
    thumbnail: bytes
    digest: str
    def __init__(self, collection: _Optional[str] = ..., id: _Optional[str] = ..., hash: _Optional[_Union[Fingerprint, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., sequence: _Optional[int] = ..., added_unix_ms: _Optional[int] = ..., quality: _Optional[int] = ..., crop_hashes: _Optional[_Iterable[_Union[Fingerprint, _Mapping]]] = ..., thumbnail: _Optional[bytes] = ..., digest: _Optional[str] = ...) -> None: ...

class ListRequest(_message.Message):
    __slots__ = ("collection", "page_size", "page_token", "include_metadata")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_METADATA_FIELD_NUMBER: _ClassVar[int]
    collection: str
    page_size: int
    page_token: str
    include_metadata: bool
    def __init__(self, collection: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., include_metadata: _Optional[bool] = ...) -> None: ...

class ListResponse(_message.Message):
    __slots__ = ("images", "next_page_token")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[StoredImage]
    next_page_token: str
    def __init__(self, images: _Optional[_Iterable[_Union[StoredImage, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SnapshotRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class SnapshotInfo(_message.Message):
    __slots__ = ("collection", "sequence", "bytes", "seconds")
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    sequence: int
    bytes: int
    seconds: float
    def __init__(self, collection: _Optional[str] = ..., sequence: _Optional[int] = ..., bytes: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

class SnapshotResponse(_message.Message):
    __slots__ = ("snapshots",)
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[SnapshotInfo]
    def __init__(self, snapshots: _Optional[_Iterable[_Union[SnapshotInfo, _Mapping]]] = ...) -> None: ...

class CompactRequest(_message.Message):
    __slots__ = ("collection",)
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class CompactResponse(_message.Message):
    __slots__ = ("slots_before", "slots_after", "seconds")
    SLOTS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    SLOTS_AFTER_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    slots_before: int
    slots_after: int
    seconds: float
    def __init__(self, slots_before: _Optional[int] = ..., slots_after: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...
