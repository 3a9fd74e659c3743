using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Cube.Knowledge.Indexing;

/// <summary>
/// Int8 scalar quantisation with one scale per vector: a vector x is stored as codes c = round(x · 127 / max|x|) in
/// [−127, 127] and the scale s = max|x| / 127, so x ≈ s·c. A per-vector scale needs no calibration pass over the
/// collection, so inserts stay incremental and a quantised row never changes after it is written (results are the
/// same after a reopen). Scores are s_row · (c_row · c_query): the query's own scale is a constant factor that does not
/// change the ranking.
/// </summary>
internal sealed class Int8Vectors
{
    private sbyte[] _codes = [];
    private float[] _scales = [];
    private int _dimensions;

    public void Add(int row, ReadOnlySpan<float> vector)
    {
        if (_dimensions == 0) _dimensions = vector.Length;
        var needed = (row + 1) * _dimensions;
        if (_codes.Length < needed) Array.Resize(ref _codes, Math.Max(needed, _codes.Length * 2));
        if (_scales.Length < row + 1) Array.Resize(ref _scales, Math.Max(row + 1, _scales.Length * 2));
        _scales[row] = Quantize(vector, _codes.AsSpan(row * _dimensions, _dimensions));
    }

    public void Move(int from, int to)
    {
        _codes.AsSpan(from * _dimensions, _dimensions).CopyTo(_codes.AsSpan(to * _dimensions, _dimensions));
        _scales[to] = _scales[from];
    }

    /// <summary>Approximate similarity of the row to query codes made by <see cref="Quantize"/> (up to the query's scale).</summary>
    public float Score(int row, ReadOnlySpan<sbyte> query) => _scales[row] * Dot(_codes.AsSpan(row * _dimensions, _dimensions), query);

    /// <summary>Writes the codes of <paramref name="vector"/> and returns its scale (0 for the zero vector).</summary>
    public static float Quantize(ReadOnlySpan<float> vector, Span<sbyte> codes)
    {
        var max = TensorPrimitives.MaxMagnitude(vector);
        var absolute = Math.Abs(max);
        if (absolute == 0 || !float.IsFinite(absolute))
        {
            codes.Clear();
            return 0;
        }
        var factor = 127f / absolute;
        for (var i = 0; i < vector.Length; i++) codes[i] = (sbyte)Math.Clamp(MathF.Round(vector[i] * factor), -127f, 127f);
        return absolute / 127f;
    }

    /// <summary>
    /// Integer dot product. With AVX2: sign-extend 16 bytes to 16 shorts and multiply-add adjacent pairs into ints
    /// (vpmaddwd); codes are at most 127 in magnitude, so a pair sum (≤ 32,258) and a 4,096-dimension total cannot
    /// overflow. Elsewhere the portable Vector128 widening path, then a scalar tail.
    /// </summary>
    public static int Dot(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        ref var left = ref MemoryMarshal.GetReference(a);
        ref var right = ref MemoryMarshal.GetReference(b);
        var length = a.Length;
        var i = 0;
        var sum = 0;
        if (Avx2.IsSupported && length >= 32)
        {
            var accumulator0 = Vector256<int>.Zero;
            var accumulator1 = Vector256<int>.Zero;
            for (; i <= length - 32; i += 32)
            {
                var x0 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref left, (nuint)i));
                var y0 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref right, (nuint)i));
                var x1 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref left, (nuint)(i + 16)));
                var y1 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref right, (nuint)(i + 16)));
                accumulator0 = Avx2.Add(accumulator0, Avx2.MultiplyAddAdjacent(x0, y0));
                accumulator1 = Avx2.Add(accumulator1, Avx2.MultiplyAddAdjacent(x1, y1));
            }
            sum = Vector256.Sum(accumulator0 + accumulator1);
        }
        else if (Vector128.IsHardwareAccelerated && length >= 16)
        {
            var accumulator = Vector128<int>.Zero;
            for (; i <= length - 16; i += 16)
            {
                var (xLow, xHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref left, (nuint)i));
                var (yLow, yHigh) = Vector128.Widen(Vector128.LoadUnsafe(ref right, (nuint)i));
                var (p0, p1) = Vector128.Widen(xLow * yLow);
                var (p2, p3) = Vector128.Widen(xHigh * yHigh);
                accumulator += p0 + p1 + p2 + p3;
            }
            sum = Vector128.Sum(accumulator);
        }
        for (; i < length; i++) sum += Unsafe.Add(ref left, i) * Unsafe.Add(ref right, i);
        return sum;
    }
}
