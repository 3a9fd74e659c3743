using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Apis;
using Cube.DataHub.Apis;
using Cube.Features.Apis;
using Cube.Testing;

namespace Cube.Features.Tests.Api;

/// <summary>Feature pipelines over the HTTP API against real DataHub data, on SQLite and on PostgreSQL.</summary>
public abstract class PipelinesApiTests(CubeAppFixture app)
{
    private const string Spec = """
        name: churn
        inputs:
          events: {dataset: events, table: events.csv}
        steps:
          - name: fill
            op: impute
            columns: [score]
            strategy: median
          - name: scale
            op: standardize
            columns: [amount]
          - name: encode
            op: onehot
            column: country
            unknown: other
          - name: keep
            op: filter
            expr: amount is not null
        output: keep
        """;

    private static byte[] Csv(int rows)
    {
        var text = new StringBuilder("id,amount,score,country,seen_at\n");
        string[] countries = ["FR", "DE", "FR", "IT", "FR", "DE"];
        for (var i = 0; i < rows; i++)
            text.Append(FormattableString.Invariant($"{i},{(i % 17 == 0 ? "" : (i * 1.25 % 90).ToString(System.Globalization.CultureInfo.InvariantCulture))},{(i % 5 == 0 ? "" : (i % 13).ToString(System.Globalization.CultureInfo.InvariantCulture))},{countries[i % countries.Length]},2026-10-{1 + i % 28:D2}T08:00:00Z\n"));
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private async Task<(HttpClient Http, string Project)> SetUpAsync()
    {
        var (http, name) = await app.CreateUserClientAsync("features");
        var project = await app.CreateProjectAsync((name, "manager"));
        foreach (var dataset in new[] { "events", "features-out" })
            await Ensure(await http.PostAsJsonAsync($"/api/projects/{project}/datasets", new CreateDatasetRequest(dataset, "test", "tabular", null)));
        var session = (await (await http.PostAsync($"/api/projects/{project}/datasets/events/uploads", null)).Content.ReadFromJsonAsync<UploadSessionDto>())!.Id;
        await Ensure(await http.PutAsync($"/api/projects/{project}/datasets/events/uploads/{session}/files/events.csv", new ByteArrayContent(Csv(3_000))));
        await Ensure(await http.PostAsJsonAsync($"/api/projects/{project}/datasets/events/uploads/{session}/commit", new CommitRequest("raw", "merge", true)));
        return (http, project);
    }

    private static async Task Ensure(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task Pipeline_ValidatesPreviewsRunsAndTransformsOnline()
    {
        var (http, project) = await SetUpAsync();
        var root = $"/api/projects/{project}/features";

        var bad = await http.PostAsJsonAsync($"{root}/pipelines/validate", new PipelineRequest(null, Spec.Replace("columns: [amount]", "columns: [amont]").Replace("op: filter", "op: filtr")));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
        var errors = problem.GetProperty("errors").EnumerateArray().ToList();
        Assert.Contains(errors, e => e.GetProperty("step").GetString() == "scale" && e.GetProperty("message").GetString()!.Contains("did you mean 'amount'"));
        Assert.Contains(errors, e => e.GetProperty("step").GetString() == "keep" && e.GetProperty("field").GetString() == "op");

        var valid = await http.PostAsJsonAsync($"{root}/pipelines/validate", new PipelineRequest(null, Spec));
        await Ensure(valid);
        var validation = (await valid.Content.ReadFromJsonAsync<ValidationDto>())!;
        Assert.Contains(validation.Steps, s => s.Name == "fill" && s.Schema!.Any(f => f.Name == "score" && f.Kind == Engine.DataKind.Float64));

        var created = await http.PostAsJsonAsync($"{root}/pipelines", new PipelineRequest("churn", Spec));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsJsonAsync($"{root}/pipelines", new PipelineRequest("churn", Spec))).StatusCode);
        var updated = await http.PutAsJsonAsync($"{root}/pipelines/churn", new PipelineRequest(null, Spec));
        Assert.Equal(2, (await updated.Content.ReadFromJsonAsync<PipelineDto>())!.Version);

        var operators = await http.GetFromJsonAsync<JsonElement>($"{root}/operators");
        Assert.Contains(operators.EnumerateArray(), o => o.GetProperty("op").GetString() == "onehot" && o.GetProperty("parameters").GetProperty("properties").TryGetProperty("unknown", out _));

        var preview = await http.PostAsJsonAsync($"{root}/pipelines/churn/preview", new PreviewRequest(null, 500, 3));
        await Ensure(preview);
        var report = await preview.Content.ReadFromJsonAsync<JsonElement>();
        var keep = report.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "keep");
        Assert.True(keep.GetProperty("rows").GetInt64() is > 400 and < 500);
        Assert.Equal(3, keep.GetProperty("firstRows").GetArrayLength());
        Assert.True(keep.GetProperty("firstRows")[0].TryGetProperty("country_FR", out _));
        var input = Assert.Single(report.GetProperty("inputs").EnumerateArray());
        Assert.Equal(("events", "events", 1, 500), (input.GetProperty("name").GetString(), input.GetProperty("dataset").GetString(), input.GetProperty("version").GetInt32(), input.GetProperty("rows").GetInt64()));
        // Kinds are written by name, so clients need no copy of the enum's order.
        Assert.Contains(input.GetProperty("schema").EnumerateArray(), f => f.GetProperty("name").GetString() == "country" && f.GetProperty("kind").GetString() == "String");

        var transformBeforeRun = await http.PostAsJsonAsync($"{root}/pipelines/churn/transform", new TransformRequest([new JsonObject { ["amount"] = 3 }]));
        Assert.Equal(HttpStatusCode.Conflict, transformBeforeRun.StatusCode);

        var started = await http.PostAsJsonAsync($"{root}/pipelines/churn/runs", new RunRequest("features-out"));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var run = (await started.Content.ReadFromJsonAsync<RunDto>())!;
        await http.GetStringAsync($"/api/runs/{run.Id}/events"); // the stream ends when the run does
        run = (await http.GetFromJsonAsync<RunDto>($"/api/runs/{run.Id}"))!;
        Assert.True(string.Equals(run.State, "succeeded", StringComparison.OrdinalIgnoreCase), $"{run.State}: {run.Error} {run.Result}");
        var rows = run.Result!.Value.GetProperty("rows").GetInt64();
        Assert.Equal(3_000 - 3_000 / 17 - 1, rows);

        // The pipeline's run history lists the run with its per-step rows; another pipeline's history does not.
        var history = (await http.GetFromJsonAsync<List<RunDto>>($"{root}/pipelines/churn/runs"))!;
        Assert.Equal(run.Id, Assert.Single(history).Id);
        Assert.Equal(("features-out", 1), (history[0].Result!.Value.GetProperty("outputDataset").GetString(), history[0].Result!.Value.GetProperty("outputVersion").GetInt32()));
        Assert.True(history[0].Result!.Value.GetProperty("steps").GetProperty("keep").GetProperty("rows").GetInt64() == rows);
        await Ensure(await http.PostAsJsonAsync($"{root}/pipelines", new PipelineRequest("other", Spec)));
        Assert.Empty((await http.GetFromJsonAsync<List<RunDto>>($"{root}/pipelines/other/runs"))!);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"{root}/pipelines/missing/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"{root}/pipelines/churn/runs?limit=0")).StatusCode);

        // The output is a new version of the output dataset with lineage to the input.
        var tables = await http.GetFromJsonAsync<JsonElement>($"/api/projects/{project}/datasets/features-out/versions/latest/tables");
        Assert.Equal(rows, tables[0].GetProperty("rowCount").GetInt64());
        var lineage = await http.GetFromJsonAsync<JsonElement>($"/api/projects/{project}/datasets/features-out/versions/1/lineage");
        Assert.Contains(lineage.GetProperty("edges").EnumerateArray(), e => e.GetProperty("kind").GetString() == "pipeline");

        // Online rows give what the batch run wrote for the same input rows.
        var batchRows = await http.GetFromJsonAsync<JsonElement>($"/api/projects/{project}/datasets/features-out/versions/1/table/preview?path=churn.parquet&limit=6");
        var online = await http.PostAsJsonAsync($"{root}/pipelines/churn/transform", new TransformRequest([
            new JsonObject { ["id"] = 1, ["amount"] = 1.25, ["score"] = 1, ["country"] = "DE", ["seen_at"] = "2026-10-02T08:00:00Z" },
            new JsonObject { ["id"] = 2, ["amount"] = 2.5, ["score"] = null, ["country"] = "ES", ["seen_at"] = "2026-10-03T08:00:00Z" },
        ]));
        await Ensure(online);
        var transformed = (await online.Content.ReadFromJsonAsync<TransformDto>())!;
        Assert.Equal(2, transformed.PipelineVersion);
        var first = batchRows.GetProperty("rows")[0];
        Assert.Equal(first.GetProperty("amount").GetDouble(), transformed.Rows[0]["amount"]!.GetValue<double>(), 12);
        Assert.Equal(first.GetProperty("country_DE").GetInt64(), transformed.Rows[0]["country_DE"]!.GetValue<long>());
        Assert.Equal(1, transformed.Rows[1]["country__other"]!.GetValue<long>());
        Assert.Equal(batchRows.GetProperty("rows")[4].GetProperty("score").GetDouble(), transformed.Rows[1]["score"]!.GetValue<double>());

        var wrongType = await http.PostAsJsonAsync($"{root}/pipelines/churn/transform", new TransformRequest([new JsonObject { ["amount"] = "lots" }]));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
    }

    [Fact]
    public async Task Run_ThatFailsInATransform_NamesTheStepAndTheRow_AndWritesNoVersion()
    {
        var (http, project) = await SetUpAsync();
        var root = $"/api/projects/{project}/features";
        // The vocabulary is given, so nothing is learnt; row 3 is the first "IT", which the step refuses.
        const string strict = """
            name: strict
            inputs:
              events: {dataset: events, table: events.csv}
            steps:
              - {name: scale, op: standardize, input: events, columns: [amount]}
              - {name: encode, op: onehot, column: country, categories: [FR, DE], unknown: error}
            output: encode
            """;
        await Ensure(await http.PostAsJsonAsync($"{root}/pipelines", new PipelineRequest("strict", strict)));
        var started = await http.PostAsJsonAsync($"{root}/pipelines/strict/runs", new RunRequest("features-out"));
        var run = (await started.Content.ReadFromJsonAsync<RunDto>())!;
        await http.GetStringAsync($"/api/runs/{run.Id}/events");
        run = (await http.GetFromJsonAsync<RunDto>($"/api/runs/{run.Id}"))!;
        Assert.Equal("failed", run.State, ignoreCase: true);
        Assert.Contains("Step 'encode' failed at row 3", run.Error);
        Assert.Contains("'IT'", run.Error);
        var versions = await http.GetFromJsonAsync<JsonElement>($"/api/projects/{project}/datasets/features-out/versions");
        Assert.Equal(0, versions.GetProperty("items").GetArrayLength());
    }
}

/// <summary>The API tests run alone: they host whole servers, and the DuckDB oracle tests would starve their run workers of the CPU.</summary>
[CollectionDefinition(nameof(ApiCollection), DisableParallelization = true)]
public sealed class ApiCollection;

[Collection(nameof(ApiCollection))]
public sealed class SqlitePipelinesApiTests(SqliteCubeApp app) : PipelinesApiTests(app), IClassFixture<SqliteCubeApp>;

[Collection(nameof(ApiCollection))]
public sealed class PostgresPipelinesApiTests(PostgresCubeApp app) : PipelinesApiTests(app), IClassFixture<PostgresCubeApp>;
