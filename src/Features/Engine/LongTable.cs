using System.Runtime.CompilerServices;

namespace Cube.Features.Engine;

/// <summary>
/// Whole-number keys to the numbers their callers gave them (groups, entities), held in one open-addressing array of key/number
/// slots (linear probing, at most half full). A lookup of a key not in cache touches one cache line, where a
/// <see cref="Dictionary{TKey, TValue}"/> touches its bucket array and then its entry array: it is what joins and
/// group-bys on an entity id spend their time on once the ids outgrow the CPU caches.
/// </summary>
internal sealed class LongTable
{
    private struct Slot
    {
        public long Key;
        /// <summary>The key's number plus one; 0 marks an empty slot.</summary>
        public int Number;
    }

    private Slot[] _slots = new Slot[16];
    private int _shift = 64 - 4;

    public int Count { get; private set; }

    /// <summary>
    /// Asks the CPU to start loading the cache line where <paramref name="key"/>'s lookup begins, so that a block of
    /// lookups waits for memory once instead of once per key. A hint only: no effect where the CPU has no prefetch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch(long key) => Memory.Prefetch(_slots, Home(key));

    /// <summary>The key's number, or −1 when it was never added.</summary>
    public int Find(long key)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        for (var i = Home(key); ; i = (i + 1) & mask)
        {
            ref var slot = ref slots[i];
            if (slot.Number == 0) return -1;
            if (slot.Key == key) return slot.Number - 1;
        }
    }

    /// <summary>The key's number; a new key gets <paramref name="number"/>.</summary>
    public int GetOrAdd(long key, int number, out bool added)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(number);
        var mask = _slots.Length - 1;
        for (var i = Home(key); ; i = (i + 1) & mask)
        {
            ref var slot = ref _slots[i];
            if (slot.Number == 0)
            {
                added = true;
                slot.Key = key;
                slot.Number = number + 1;
                if (++Count * 2 > _slots.Length) Grow();
                return number;
            }
            if (slot.Key == key)
            {
                added = false;
                return slot.Number - 1;
            }
        }
    }

    /// <summary>Fibonacci hashing: the top bits of the key times 2^64/φ, so sequential ids spread over the table.</summary>
    private int Home(long key) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> _shift);

    private void Grow()
    {
        var old = _slots;
        _slots = new Slot[old.Length * 2];
        _shift--;
        var mask = _slots.Length - 1;
        foreach (var slot in old)
        {
            if (slot.Number == 0) continue;
            var i = Home(slot.Key);
            while (_slots[i].Number != 0) i = (i + 1) & mask;
            _slots[i] = slot;
        }
    }
}
