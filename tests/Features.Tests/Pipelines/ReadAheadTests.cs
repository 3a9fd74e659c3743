using Cube.Features.Engine;

namespace Cube.Features.Tests.Pipelines;

public sealed class ReadAheadTests
{
    [Fact]
    public async Task Of_YieldsEveryItemInOrder()
    {
        var items = new List<int>();
        await foreach (var item in ReadAhead.Of(Numbers(1_000, failAt: -1, new StrongBox()))) items.Add(item);
        Assert.Equal(Enumerable.Range(0, 1_000), items);
    }

    [Fact]
    public async Task Of_SurfacesTheReadersFailure_AfterTheItemsBeforeIt()
    {
        var items = new List<int>();
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (var item in ReadAhead.Of(Numbers(100, failAt: 40, new StrongBox()))) items.Add(item);
        });
        Assert.Equal("damaged at 40", error.Message);
        Assert.Equal(Enumerable.Range(0, 40), items);
    }

    [Fact]
    public async Task Of_StopsTheReader_WhenTheCallerStopsEarly()
    {
        var produced = new StrongBox();
        await foreach (var item in ReadAhead.Of(Numbers(1_000_000, failAt: -1, produced), depth: 2))
            if (item == 10) break;
        // The reader ran at most the depth (plus the one it was writing) past the last item taken, and has ended.
        var settled = produced.Value;
        await Task.Delay(50);
        Assert.Equal(settled, produced.Value);
        Assert.InRange(settled, 11, 15);
    }

    private sealed class StrongBox
    {
        public int Value;
    }

    private static async IAsyncEnumerable<int> Numbers(int count, int failAt, StrongBox produced)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            if (i == failAt) throw new InvalidDataException($"damaged at {i}");
            Interlocked.Increment(ref produced.Value);
            yield return i;
        }
    }
}
