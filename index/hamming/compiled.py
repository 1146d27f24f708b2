"""How the Hamming structure's few hot loops are compiled (numba), and the bit count they
share.

Why numba: those loops (the substring tables' probes, the code map's binary search) touch a
few thousand scattered places a call; numpy can only do them in passes over temporary
arrays. Compiled once per machine and cached on disk (numba's `cache=True`, beside the
sources or in numba's user cache); the compiled functions release the GIL, as FAISS's do,
so concurrent searches use every core.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt
from llvmlite import ir
from numba.core import cgutils as _cgutils
from numba.core import types
from numba.core.extending import intrinsic

__all__ = ["compiled", "grown", "popcount", "prefetch"]

_F = TypeVar("_F", bound=Callable[..., Any])


def compiled(inline: bool = False) -> Callable[[_F], _F]:
    """numba's compile without Python objects, cached on disk, releasing the GIL (inlined
    into its callers when `inline`); the function keeps its own signature for the type
    checker."""

    def compile_(function: _F) -> _F:
        where: Literal["always", "never"] = "always" if inline else "never"
        return cast(_F, numba.njit(cache=True, nogil=True, inline=where)(function))

    return compile_


_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


@compiled(inline=True)
def popcount(x: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    """The bits set in a 64-bit word (the SWAR count, which LLVM turns into popcnt)."""
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return (x * _H01) >> np.uint64(56)


@compiled(inline=True)
def grown(values: npt.NDArray[np.int64], most: int) -> npt.NDArray[np.int64]:  # pragma: no cover
    """`values` copied into an output twice as long (at most `most`): a loop whose output
    filled up goes on in it."""
    longer = np.empty(min(2 * values.shape[0], most), dtype=np.int64)
    longer[: values.shape[0]] = values
    return longer


cgutils: Any = _cgutils  # numba's code-generation helpers carry no type hints


@intrinsic
def _prefetch(typingctx: Any, array: Any, index: Any) -> Any:  # pragma: no cover - compiled
    """Asks the CPU to fetch the cache line of `array[index]` for a read soon (LLVM's
    prefetch: no fault, no wait; an index past the end is harmless). What lets a loop of
    short scattered runs overlap their cache misses: the CPU's own prefetcher only follows
    a run once it is being read."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        at = cgutils.get_item_pointer(
            context, builder, array_type, view, [args[1]], wraparound=False, boundscheck=False
        )
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        read, keep_in_all_levels, data = (
            ir.Constant(i32, 0),
            ir.Constant(i32, 3),
            ir.Constant(i32, 1),
        )
        builder.call(function, [builder.bitcast(at, byte_pointer), read, keep_in_all_levels, data])
        return context.get_dummy_value()

    return types.void(array, index), codegen


# typed for callers: a compiled function calls it as prefetch(array, index)
prefetch = cast(Callable[[npt.NDArray[Any], int], None], _prefetch)
