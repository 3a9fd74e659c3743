using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Cube.Features.Engine;

/// <summary>Memory hints for kernels that look up many rows at random places: a block's loads start together.</summary>
internal static class Memory
{
    /// <summary>Starts loading <c>array[index]</c>'s cache line into every cache level; nothing happens out of range or without SSE.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Prefetch<T>(T[] array, int index) where T : unmanaged
    {
        // A prefetch never faults and the element is not read, so a stale address after the GC moves the array is harmless.
        if (Sse.IsSupported && (uint)index < (uint)array.Length)
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), index)));
    }
}
