using Cube.Core.Errors;
using Cube.Features.Schedules;

namespace Cube.Features.Tests.Schedules;

public sealed class CronScheduleTests
{
    [Theory]
    [InlineData("")]
    [InlineData("0 3 * *")]
    [InlineData("0 0 3 * * *")]
    [InlineData("61 3 * * *")]
    [InlineData("0 3 * * mon-xyz")]
    [InlineData("@fortnightly")]
    public void Parse_NamesTheCronField_WhenTheExpressionIsInvalid(string cron)
    {
        var e = Assert.Throws<ValidationException>(() => CronSchedule.Parse(cron, "UTC"));
        Assert.Equal(["cron"], e.Errors.Keys);
    }

    [Fact]
    public void Parse_NamesBothFields_WhenCronAndTimeZoneAreInvalid()
    {
        var e = Assert.Throws<ValidationException>(() => CronSchedule.Parse("bad", "Mars/Olympus_Mons"));
        Assert.Equal(["cron", "timeZone"], e.Errors.Keys.Order());
        Assert.Contains("Mars/Olympus_Mons", e.Errors["timeZone"][0]);
    }

    [Theory]
    [InlineData("0 3 * * *", "Europe/Paris")]
    [InlineData("*/15 8-18 * * 1-5", "America/New_York")]
    [InlineData("@daily", null)]
    public void Parse_Accepts_WhenTheExpressionAndZoneAreValid(string cron, string? zone)
    {
        var schedule = CronSchedule.Parse(cron, zone);
        Assert.Equal(cron, schedule.Text);
        Assert.NotNull(schedule.Next(DateTimeOffset.UtcNow));
    }

    [Fact]
    public void NextAndLatest_FollowTheTimeZone_AcrossDaylightSavingTime()
    {
        var schedule = CronSchedule.Parse("0 3 * * *", "Europe/Paris");
        // 03:00 in Paris is 02:00 UTC in winter and 01:00 UTC in summer (clocks go forward on 2026-03-29).
        Assert.Equal(new DateTimeOffset(2026, 3, 28, 2, 0, 0, TimeSpan.Zero), schedule.Next(new DateTimeOffset(2026, 3, 28, 0, 0, 0, TimeSpan.Zero)));
        Assert.Equal(new DateTimeOffset(2026, 3, 30, 1, 0, 0, TimeSpan.Zero), schedule.Next(new DateTimeOffset(2026, 3, 29, 12, 0, 0, TimeSpan.Zero)));
        Assert.Equal(new DateTimeOffset(2026, 3, 30, 1, 0, 0, TimeSpan.Zero), schedule.Latest(new DateTimeOffset(2026, 3, 30, 1, 0, 0, TimeSpan.Zero)));
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), schedule.Latest(new DateTimeOffset(2026, 3, 30, 0, 59, 0, TimeSpan.Zero)));
        Assert.Equal("2026-03-30", schedule.Ds(new DateTimeOffset(2026, 3, 29, 23, 30, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Latest_FindsRareOccurrences_FarInThePast()
    {
        var yearly = CronSchedule.Parse("0 0 1 1 *", "UTC");
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), yearly.Latest(new DateTimeOffset(2026, 12, 2, 4, 0, 0, TimeSpan.Zero)));
    }

    [Fact]
    public void Between_IncludesBothEnds_AndRefusesTooManyOccurrences()
    {
        var daily = CronSchedule.Parse("0 0 * * *", "UTC");
        var dates = daily.Between(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 5, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal(5, dates.Count);
        Assert.Equal(new DateTimeOffset(2026, 11, 5, 0, 0, 0, TimeSpan.Zero), dates[^1]);
        var e = Assert.Throws<ValidationException>(() => CronSchedule.Parse("* * * * *", "UTC").Between(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(1)));
        Assert.Equal(["to"], e.Errors.Keys);
    }
}
