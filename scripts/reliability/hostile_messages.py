"""Valid `neardup.v1` request messages with hostile field values, drawn from fuzzer bytes.

Structure-aware fuzzing of the RPC surface: every message is well-formed protobuf (the
server's parser is gRPC's, not ours to fuzz), but each field takes values a careless
handler would mishandle: 0, -1 and the type's extremes, unknown enum numbers, empty, huge,
NUL-laden and non-ASCII strings, hex that is almost a hash, image bytes that are seeds,
truncations and bit flips of real images, and names of collections and ids that exist, so
that requests reach past the first check. The field walk follows the descriptors, so a
field added to the contract is fuzzed without a change here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

__all__ = ["HostileMessages", "request_types"]

_INTS = (0, 1, 2, 10, 64, 65, 100, 1000, 10_000, 2**31 - 1, 2**32 - 1)
_SIGNED = (-1, -(2**31), -(2**63))
_STRINGS = (
    "",
    " ",
    "\x00",
    "a" * 300,
    "é\u202e\U0001f600",
    "../../etc/passwd",
    "default",
    "DROP TABLE images;--",
    "%s%n",
)
_HEXES = ("", "0", "0" * 15, "0" * 16, "f" * 16, "F" * 16, "g" * 16, "0" * 17, "-" + "1" * 15)
_MAX_DEPTH = 4
_MAX_REPEATED = 6


class HostileMessages:
    """Builds hostile requests from a `atheris.FuzzedDataProvider`.

    images: real image bytes to start from; names: collection names and ids that exist on
    the server (they are mixed with hostile ones).
    """

    def __init__(self, data: Any, images: Sequence[bytes], names: Sequence[str]) -> None:
        self._data = data
        self._images = images
        self._names = names

    def fill(self, message: Message, depth: int = 0) -> Message:
        """Sets some of `message`'s fields (one member of each oneof at most)."""
        chosen_oneofs: set[str] = set()
        for field in message.DESCRIPTOR.fields:
            oneof = field.containing_oneof
            if oneof is not None and not oneof.name.startswith("_"):  # `optional` is a oneof
                if oneof.name in chosen_oneofs or not self._data.ConsumeBool():
                    continue
                chosen_oneofs.add(oneof.name)
            elif self._data.ConsumeIntInRange(0, 3) == 0:
                continue  # left unset
            self._set(message, field, depth)
        return message

    def _set(self, message: Message, field: FieldDescriptor, depth: int) -> None:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            target = getattr(message, field.name)
            for _ in range(self._data.ConsumeIntInRange(0, _MAX_REPEATED)):
                target[self._string("key")] = self._string("value")
            return
        if field.is_repeated:
            target = getattr(message, field.name)
            count = self._count()
            if field.message_type is not None:
                for _ in range(count):
                    if depth < _MAX_DEPTH:
                        self.fill(target.add(), depth + 1)
            else:
                target.extend(self._scalar(field) for _ in range(count))
            return
        if field.message_type is not None:
            if depth < _MAX_DEPTH:
                self.fill(getattr(message, field.name), depth + 1)
                getattr(message, field.name).SetInParent()
            return
        setattr(message, field.name, self._scalar(field))

    def _count(self) -> int:
        """How many items a repeated field gets: usually a few, sometimes past a limit."""
        if self._data.ConsumeIntInRange(0, 15) == 0:
            return self._data.PickValueInList([1001, 10_001])
        return self._data.ConsumeIntInRange(0, _MAX_REPEATED)

    def _scalar(self, field: FieldDescriptor) -> Any:
        kind = field.type
        if kind == FieldDescriptor.TYPE_BOOL:
            return self._data.ConsumeBool()
        if kind == FieldDescriptor.TYPE_ENUM:
            return self._data.ConsumeIntInRange(-1, len(field.enum_type.values) + 2)
        if kind in (FieldDescriptor.TYPE_STRING,):
            return self._string(field.name)
        if kind == FieldDescriptor.TYPE_BYTES:
            return self._bytes()
        if kind in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
            return self._data.PickValueInList([0.0, -1.0, 1e308, float("nan"), float("inf")])
        return self._integer(field)

    def _integer(self, field: FieldDescriptor) -> int:
        unsigned = field.type in (
            FieldDescriptor.TYPE_UINT32,
            FieldDescriptor.TYPE_UINT64,
            FieldDescriptor.TYPE_FIXED32,
            FieldDescriptor.TYPE_FIXED64,
        )
        wide = field.type in (
            FieldDescriptor.TYPE_UINT64,
            FieldDescriptor.TYPE_INT64,
            FieldDescriptor.TYPE_FIXED64,
            FieldDescriptor.TYPE_SINT64,
            FieldDescriptor.TYPE_SFIXED64,
        )
        picks: list[int] = list(_INTS) + ([] if unsigned else list(_SIGNED[:2]))
        if wide:
            picks += [2**63 - 1] + ([2**64 - 1] if unsigned else [-(2**63)])
        else:
            picks = [v for v in picks if v < 2**31] if not unsigned else picks
        if self._data.ConsumeBool():
            return int(self._data.PickValueInList(picks))
        low, high = (0, 2**32 - 1) if unsigned else (-(2**31), 2**31 - 1)
        return int(self._data.ConsumeIntInRange(low, high))

    def _string(self, name: str) -> str:
        if name == "hex":
            return str(self._data.PickValueInList([*list(_HEXES), self._hex()]))
        choice = self._data.ConsumeIntInRange(0, 3)
        if choice == 0 and self._names:
            return str(self._data.PickValueInList(list(self._names)))
        if choice == 1:
            return str(self._data.PickValueInList(list(_STRINGS)))
        if choice == 2:
            return str(self._data.ConsumeUnicodeNoSurrogates(self._data.ConsumeIntInRange(0, 64)))
        return "x" * self._data.PickValueInList([129, 1025, 70_000])

    def _hex(self) -> str:
        return f"{self._data.ConsumeIntInRange(0, 2**64 - 1):016x}"

    def _bytes(self) -> bytes:
        choice = self._data.ConsumeIntInRange(0, 4)
        if choice == 0 or not self._images:
            return bytes(self._data.ConsumeBytes(self._data.ConsumeIntInRange(0, 4096)))
        image = self._data.PickValueInList(list(self._images))
        if choice == 1:
            return bytes(image)
        if choice == 2:  # truncated
            return bytes(image[: self._data.ConsumeIntInRange(0, len(image))])
        flipped = bytearray(image)
        for _ in range(self._data.ConsumeIntInRange(1, 16)):
            at = self._data.ConsumeIntInRange(0, len(flipped) - 1)
            flipped[at] ^= 1 << self._data.ConsumeIntInRange(0, 7)
        return bytes(flipped)


def request_types(service: Any) -> dict[str, Callable[[], Message]]:
    """Each method of a service descriptor, by name, with its request class."""
    from google.protobuf import message_factory

    return {
        method.name: message_factory.GetMessageClass(method.input_type)
        for method in service.methods
    }
