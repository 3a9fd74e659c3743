using System.Net.Http.Json;
using System.Text.Json;
using Cube.Core.Apis;
using Cube.Core.Runs;
using Cube.Features.Apis;
using Cube.Features.Tests.Schedules;
using Cube.Testing;

namespace Cube.Features.Tests.Api;

/// <summary>A pipeline with sparse TF-IDF output runs to a DataHub version and transforms rows online, on SQLite and PostgreSQL.</summary>
public abstract class SparseRunApiTests(CubeAppFixture app)
{
    private const string Spec = """
        name: words
        inputs:
          events: {dataset: events, table: events.csv}
        steps:
          - {name: tokens, op: tokenize, column: doc, tokenizer: whitespace}
          - {name: weights, op: tfidf, column: doc_tokens, prefix: w, norm: none, output: sparse}
        output: weights
        """;

    [Fact]
    public async Task SparseTfidf_RunsToANewVersion_AndAnswersOnline()
    {
        var h = await ScheduleHarness.CreateAsync(app);
        await h.PushEventsAsync("id,doc\n1,red red blue\n2,blue\n3,\n4,green red\n");
        await ScheduleHarness.Ensure(await h.Http.PostAsJsonAsync($"{h.Root}/pipelines", new PipelineRequest("words", Spec)));
        var started = await h.Http.PostAsJsonAsync($"{h.Root}/pipelines/words/runs", new RunRequest("out"));
        await ScheduleHarness.Ensure(started);
        var run = await h.ExecuteAsync((await started.Content.ReadFromJsonAsync<RunDto>())!.Id);
        Assert.True(run.State == RunState.Succeeded, run.Error);

        var tables = await h.Http.GetFromJsonAsync<JsonElement>($"/api/projects/{h.Project}/datasets/out/versions/1/tables");
        Assert.Equal(4, tables[0].GetProperty("rowCount").GetInt64());
        // The column went through DataHub's Parquet conversion as a list (of index/value structs).
        Assert.Contains("\"name\":\"w\",\"type\":\"list\"", tables[0].GetRawText(), StringComparison.Ordinal);

        // Vocabulary by count: red (3), blue (2), green (1); idf = ln(4/(1+df)) + 1 over the three non-null documents (an empty CSV field reads as null).
        var online = await h.Http.PostAsJsonAsync($"{h.Root}/pipelines/words/transform", new TransformRequest([new() { ["id"] = 9, ["doc"] = "green green red" }]));
        await ScheduleHarness.Ensure(online);
        var w = (await online.Content.ReadFromJsonAsync<TransformDto>())!.Rows[0]["w"]!;
        Assert.Equal([0, 2], w["indices"]!.AsArray().Select(i => i!.GetValue<int>()));
        var values = w["values"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        Assert.Equal((float)(Math.Log(4.0 / 3) + 1), (float)values[0]);
        Assert.Equal((float)(2 * (Math.Log(4.0 / 2) + 1)), (float)values[1]);
    }
}

[Collection(nameof(ApiCollection))]
public sealed class SqliteSparseRunApiTests(SqliteSchedulesApp app) : SparseRunApiTests(app), IClassFixture<SqliteSchedulesApp>;

[Collection(nameof(ApiCollection))]
public sealed class PostgresSparseRunApiTests(PostgresSchedulesApp app) : SparseRunApiTests(app), IClassFixture<PostgresSchedulesApp>;
