using System.IO.Hashing;

namespace Cube.DataHub.Tables.Text;

/// <summary>
/// Assigns dense codes to distinct UTF-8 strings of one batch (open addressing over XxHash3), copying each
/// distinct value once: the batch's dictionary array is built from it without a managed string per value.
/// </summary>
internal sealed class Utf8Interner
{
    private int[] _slots = new int[1 << 12];
    private ulong[] _hashes = new ulong[1 << 11];
    private int[] _offsets = new int[(1 << 11) + 1];
    private byte[] _data = new byte[1 << 16];

    public int Count { get; private set; }
    public ReadOnlySpan<int> Offsets => _offsets.AsSpan(0, Count + 1);
    public ReadOnlySpan<byte> Data => _data.AsSpan(0, _offsets[Count]);

    public void Clear()
    {
        Array.Clear(_slots);
        Count = 0;
    }

    public int Intern(ReadOnlySpan<byte> value)
    {
        var hash = XxHash3.HashToUInt64(value);
        var mask = _slots.Length - 1;
        var slot = (int)hash & mask;
        while (true)
        {
            var code = _slots[slot] - 1;
            if (code < 0) break;
            if (_hashes[code] == hash && _data.AsSpan(_offsets[code], _offsets[code + 1] - _offsets[code]).SequenceEqual(value)) return code;
            slot = (slot + 1) & mask;
        }
        var id = Count;
        if (id + 1 >= _hashes.Length)
        {
            Array.Resize(ref _hashes, _hashes.Length * 2);
            Array.Resize(ref _offsets, _offsets.Length * 2);
        }
        var at = _offsets[id];
        if (at + value.Length > _data.Length) Array.Resize(ref _data, Math.Max(_data.Length * 2, at + value.Length));
        value.CopyTo(_data.AsSpan(at));
        _offsets[id + 1] = at + value.Length;
        _hashes[id] = hash;
        _slots[slot] = id + 1;
        Count = id + 1;
        // Keep the table at most half full so probes stay short.
        if (Count * 2 > _slots.Length) Rehash();
        return id;
    }

    private void Rehash()
    {
        _slots = new int[_slots.Length * 2];
        var mask = _slots.Length - 1;
        for (var id = 0; id < Count; id++)
        {
            var slot = (int)_hashes[id] & mask;
            while (_slots[slot] != 0) slot = (slot + 1) & mask;
            _slots[slot] = id + 1;
        }
    }
}
