using Cube.Labeling.Distribution;

namespace Cube.Labeling.Tests.Distribution;

public sealed class ReclaimScheduleTests
{
    private static readonly Guid Project = Guid.NewGuid();
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static async Task<int> PassAsync(ReclaimSchedule schedule, DateTimeOffset now, DateTimeOffset? earliestLive, int leaseSeconds = 600)
    {
        var passes = 0;
        await schedule.RunIfDueAsync(Project, leaseSeconds, now, _ =>
        {
            passes++;
            return Task.FromResult(earliestLive);
        }, default);
        return passes;
    }

    [Fact]
    public async Task IsDue_FalseUntilTheEarliestLiveLeaseExpires_ThenTrue()
    {
        var schedule = new ReclaimSchedule();
        Assert.True(schedule.IsDue(Project, 600, T0));
        Assert.Equal(1, await PassAsync(schedule, T0, T0.AddSeconds(30)));

        Assert.False(schedule.IsDue(Project, 600, T0.AddSeconds(29)));
        Assert.Equal(0, await PassAsync(schedule, T0.AddSeconds(29), T0.AddSeconds(30)));
        Assert.True(schedule.IsDue(Project, 600, T0.AddSeconds(30)));
    }

    [Fact]
    public async Task IsDue_TrueAfterOneLeaseTime_WhenNoLeaseWasLive()
    {
        var schedule = new ReclaimSchedule();
        await PassAsync(schedule, T0, null, leaseSeconds: 30);

        Assert.False(schedule.IsDue(Project, 30, T0.AddSeconds(29)));
        Assert.True(schedule.IsDue(Project, 30, T0.AddSeconds(30)));
    }

    [Fact]
    public async Task IsDue_True_WhenALeaseTakenHereExpiresSooner()
    {
        var schedule = new ReclaimSchedule();
        await PassAsync(schedule, T0, T0.AddSeconds(50));
        schedule.Leased(Project, T0.AddSeconds(20));

        Assert.False(schedule.IsDue(Project, 600, T0.AddSeconds(19)));
        Assert.True(schedule.IsDue(Project, 600, T0.AddSeconds(20)));
    }

    [Fact]
    public async Task IsDue_True_WhenTheLeaseTimeShrankOrTheClockWentBackOrTheLongestIntervalPassed()
    {
        var schedule = new ReclaimSchedule();
        await PassAsync(schedule, T0, null);

        Assert.False(schedule.IsDue(Project, 600, T0.AddSeconds(1)));
        Assert.True(schedule.IsDue(Project, 10, T0.AddSeconds(1)));
        Assert.True(schedule.IsDue(Project, 600, T0.AddSeconds(-1)));
        Assert.False(schedule.IsDue(Project, 600, T0 + ReclaimSchedule.MaxInterval - TimeSpan.FromSeconds(1)));
        Assert.True(schedule.IsDue(Project, 600, T0 + ReclaimSchedule.MaxInterval));
    }
}
