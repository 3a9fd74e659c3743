using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Cube.Core.Apis;
using Cube.DataHub.Apis;
using Cube.Testing;

namespace Cube.DataHub.Tests.Api;

/// <summary>
/// A real <c>cube</c> process is killed with SIGKILL in the middle of a commit, then started again on the same data
/// directory. No partial version may ever be visible; the idempotent commit run is recovered and completes.
/// </summary>
public sealed class KillDuringCommitTests
{
    private const int FileCount = 24;

    private static readonly string[] FastRecovery =
        ["--Cube:Runs:HeartbeatInterval", "00:00:01", "--Cube:Runs:OrphanAfter", "00:00:03", "--Cube:Runs:ProgressWriteInterval", "00:00:00.020"];

    private static byte[] Csv(int file)
    {
        var text = new StringBuilder("id,group,value\n");
        for (var i = 0; i < 20_000; i++) text.Append(i).Append(",g").Append((i + file) % 13).Append(',').Append(i * 0.25 + file).Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    [Theory]
    [InlineData(5)]
    [InlineData(60)]
    [InlineData(95)]
    public async Task KillDuringCommit_LeavesNoPartialVersion_AndTheCommitCompletesAfterRestart(double killAtProgress)
    {
        using var data = new TempDirectory();
        Guid runId;
        await using (var first = await CubeProcess.StartAsync(data.Path, FastRecovery))
        {
            using var client = await first.SignInAsync();
            (await client.PostAsJsonAsync("/api/projects", new CreateProjectRequest("kill", "Kill test", null))).EnsureSuccessStatusCode();
            (await client.PostAsJsonAsync("/api/projects/kill/datasets", new CreateDatasetRequest("tables", null, "tabular", null))).EnsureSuccessStatusCode();
            var session = (await (await client.PostAsync("/api/projects/kill/datasets/tables/uploads", null)).Content.ReadFromJsonAsync<UploadSessionDto>())!.Id;
            for (var i = 0; i < FileCount; i++)
            {
                var put = new HttpRequestMessage(HttpMethod.Put, $"/api/projects/kill/datasets/tables/uploads/{session}/files/part-{i:D2}.csv") { Content = new ByteArrayContent(Csv(i)) };
                put.Content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
                (await client.SendAsync(put)).EnsureSuccessStatusCode();
            }
            var accepted = await client.PostAsJsonAsync($"/api/projects/kill/datasets/tables/uploads/{session}/commit", new CommitRequest("killed midway", null, false));
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
            runId = (await accepted.Content.ReadFromJsonAsync<RunDto>())!.Id;

            var deadline = DateTime.UtcNow.AddSeconds(60);
            RunDto atKill;
            while (true)
            {
                atKill = (await client.GetFromJsonAsync<RunDto>($"/api/runs/{runId}"))!;
                if (atKill.Progress >= killAtProgress || atKill.State != "queued" && atKill.State != "running") break;
                Assert.True(DateTime.UtcNow < deadline, "the commit never reached the kill point");
                await Task.Delay(10);
            }
            first.Process.Kill(entireProcessTree: true); // SIGKILL: no shutdown hooks run
            // Conversion takes seconds, so the early kill points always land mid-run; 95 (writing the version) races
            // the final transaction on purpose and may land on either side of it.
            if (killAtProgress < 90) Assert.Equal("running", atKill.State);
            await first.Process.WaitForExitAsync();
        }

        await using var second = await CubeProcess.StartAsync(data.Path, FastRecovery);
        using var after = await second.SignInAsync();
        var finished = DateTime.UtcNow.AddSeconds(90);
        RunDto final;
        while (true)
        {
            // At every observation, a visible version is complete: all files and all tables.
            var versions = (await after.GetFromJsonAsync<Page<VersionDto>>("/api/projects/kill/datasets/tables/versions"))!;
            Assert.True(versions.Items.Count <= 1, "a retried commit must not create a second version");
            foreach (var version in versions.Items)
            {
                Assert.Equal(FileCount, version.FileCount);
                var tables = (await after.GetFromJsonAsync<List<TableSummaryDto>>($"/api/projects/kill/datasets/tables/versions/{version.Number}/tables"))!;
                Assert.Equal(FileCount, tables.Count);
                Assert.All(tables, t => Assert.Equal(20_000, t.RowCount));
            }
            final = (await after.GetFromJsonAsync<RunDto>($"/api/runs/{runId}"))!;
            if (final.State is "succeeded" or "failed" or "cancelled") break;
            Assert.True(DateTime.UtcNow < finished, $"the commit run stayed {final.State} after the restart");
            await Task.Delay(100);
        }
        Assert.Equal("succeeded", final.State);
        var latest = (await after.GetFromJsonAsync<VersionDto>("/api/projects/kill/datasets/tables/versions/latest"))!;
        Assert.Equal(1, latest.Number);
        Assert.Equal(FileCount, latest.FileCount);
        Assert.Equal(Csv(7), await after.GetByteArrayAsync("/api/projects/kill/datasets/tables/versions/1/files/part-07.csv"));
    }
}
