using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Cube.Testing;
using Cube.Training.Apis;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Cube.Training.Tests.Api;

/// <summary>Built-in ML.NET jobs end to end: a CSV pushed to DataHub, a job submitted through the API, a registered model that loads and predicts.</summary>
public abstract class MlNetApiTests(CubeAppFixture app)
{
    private async Task<TrainingClient> ManagerAsync()
    {
        var (http, name) = await app.CreateUserClientAsync("mlnet");
        return new TrainingClient(http, await app.CreateProjectAsync((name, "manager")));
    }

    /// <summary>Churn is decided by x1 + x2 and the plan; the columns give a separable binary problem with a categorical feature.</summary>
    private static byte[] ChurnCsv(int rows, int seed = 7)
    {
        var random = new Random(seed);
        var plans = new[] { "basic", "plus", "pro" };
        var text = new StringBuilder("id,x1,x2,plan,active,churned\n");
        for (var i = 0; i < rows; i++)
        {
            var x1 = random.NextDouble();
            var x2 = random.NextDouble();
            var plan = plans[random.Next(plans.Length)];
            var churned = x1 + x2 + (plan == "pro" ? -0.4 : 0) > 1;
            text.Append(CultureInfo.InvariantCulture, $"c{i},{x1:F4},{x2:F4},{plan},{random.Next(2) == 0},{churned}\n");
        }
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static object MlNetSpec(string name, string dataset, Dictionary<string, string> hyperparameters) => new
    {
        name,
        framework = "mlnet",
        inputs = new[] { new { dataset, version = "latest" } },
        hyperparameters,
    };

    /// <summary>How a scoring client feeds the model: the signature's input columns, bools and integers as floats.</summary>
    private sealed class ChurnInput
    {
        public float x1 { get; set; }
        public float x2 { get; set; }
        public string plan { get; set; } = "";
        public float active { get; set; }
    }

    [Fact]
    public async Task MlNetJob_TrainsOnADataHubTable_AndRegistersAModelVersionThatPredicts()
    {
        var client = await ManagerAsync();
        await client.PushDatasetAsync("churn", ("customers.csv", ChurnCsv(800)));

        var submitted = await client.SubmitAsync(MlNetSpec("churn-fasttree", "churn", new()
        {
            ["task"] = "binary", ["trainer"] = "fasttree", ["label"] = "churned", ["features"] = "x1,x2,plan,active", ["trees"] = "50", ["seed"] = "3",
        }));
        Assert.Equal("mlnet", submitted.Framework);
        var job = await client.WaitAsync(submitted.Id);
        Assert.True(job.Job.State == "succeeded", $"{job.Job.State}: {job.Job.Error}");
        Assert.Equal(100, job.Job.Progress);
        Assert.Equal("Succeeded: model churn-fasttree", job.Job.Message);
        Assert.Equal("model.zip", Assert.Single(job.Artifacts).Path);
        var input = Assert.Single(job.Inputs);
        Assert.Equal(new JobModelVersionDto("churn-fasttree", 1, "mlnet"), Assert.Single(job.ModelVersions));

        // Metrics are the run's tracked metrics, and the version's snapshot of them.
        var metrics = (await client.Http.GetFromJsonAsync<List<MetricSeriesDto>>($"{client.Base}/jobs/{submitted.Id}/metrics", TrainingClient.Json))!;
        Assert.Equal(["accuracy", "auc", "f1", "log_loss"], metrics.Select(m => m.Name).Order(StringComparer.Ordinal));
        var version = (await client.Http.GetFromJsonAsync<ModelVersionDto>($"{client.Base}/models/churn-fasttree/versions/latest", TrainingClient.Json))!;
        Assert.Equal((1, "mlnet", "model.zip", submitted.Id, job.Job.RunId), (version.Number, version.Flavor, version.ArtifactPath, version.JobId, version.RunId));
        Assert.True(version.Metrics.GetProperty("accuracy").GetDouble() > 0.9, version.Metrics.ToString());
        Assert.True(version.Metrics.GetProperty("auc").GetDouble() > 0.95, version.Metrics.ToString());
        var lineage = Assert.Single(version.Lineage);
        Assert.Equal(("churn", 1, input.VersionId), (lineage.Dataset, lineage.Version, lineage.DatasetVersionId));

        // The signature: the feature columns with their table types in, the predictions out.
        var signature = version.Signature!.Value;
        Assert.Equal(["x1:double", "x2:double", "plan:utf8", "active:bool"],
            signature.GetProperty("inputs").EnumerateArray().Select(c => $"{c.GetProperty("name").GetString()}:{c.GetProperty("type").GetString()}"));
        Assert.Equal(["PredictedLabel", "Score", "Probability"], signature.GetProperty("outputs").EnumerateArray().Select(c => c.GetProperty("name").GetString()));

        // The artifact is an ML.NET model that scores new rows.
        var bytes = await client.Http.GetByteArrayAsync($"{client.Base}/models/churn-fasttree/versions/1/artifact");
        var ml = new MLContext(1);
        var model = ml.Model.Load(new MemoryStream(bytes), out var schema);
        Assert.Equal(["x1", "x2", "plan", "active"], schema.Select(c => c.Name));
        var rows = ml.Data.LoadFromEnumerable(new[]
        {
            new ChurnInput { x1 = 0.95f, x2 = 0.9f, plan = "basic", active = 1 },
            new ChurnInput { x1 = 0.05f, x2 = 0.1f, plan = "plus", active = 0 },
        });
        var predicted = model.Transform(rows).GetColumn<bool>("PredictedLabel").ToArray();
        Assert.Equal([true, false], predicted);
    }

    [Fact]
    public async Task MlNetJob_ClassifiesText_AndRegresses_WithEachTrainer()
    {
        var client = await ManagerAsync();
        var random = new Random(11);
        var topics = new Dictionary<string, string[]>
        {
            ["sport"] = ["match", "goal", "team", "coach", "league"],
            ["food"] = ["recipe", "oven", "flour", "spice", "dinner"],
            ["tech"] = ["server", "compiler", "kernel", "cloud", "chip"],
        };
        var text = new StringBuilder("review,topic,length,score\n");
        for (var i = 0; i < 450; i++)
        {
            var topic = topics.Keys.ElementAt(i % 3);
            var words = Enumerable.Range(0, 6).Select(_ => topics[topic][random.Next(5)]);
            var length = random.Next(10, 200);
            text.Append(CultureInfo.InvariantCulture, $"\"a {string.Join(' ', words)} note\",{topic},{length},{length * 0.5 + random.NextDouble():F3}\n");
        }
        await client.PushDatasetAsync("reviews", ("reviews.csv", Encoding.UTF8.GetBytes(text.ToString())));

        var classify = await client.SubmitAsync(MlNetSpec("topics", "reviews", new() { ["task"] = "multiclass", ["trainer"] = "sdca", ["label"] = "topic", ["text"] = "review", ["features"] = "review", ["iterations"] = "20" }));
        var regress = await client.SubmitAsync(MlNetSpec("scores", "reviews", new() { ["task"] = "regression", ["trainer"] = "lightgbm", ["label"] = "score", ["features"] = "length" }));
        var classified = await client.WaitAsync(classify.Id);
        Assert.True(classified.Job.State == "succeeded", classified.Job.Error);
        var regressed = await client.WaitAsync(regress.Id);
        Assert.True(regressed.Job.State == "succeeded", regressed.Job.Error);

        var topicsVersion = (await client.Http.GetFromJsonAsync<ModelVersionDto>($"{client.Base}/models/topics/versions/1", TrainingClient.Json))!;
        Assert.True(topicsVersion.Metrics.GetProperty("micro_accuracy").GetDouble() > 0.9, topicsVersion.Metrics.ToString());
        Assert.True(topicsVersion.Metrics.TryGetProperty("macro_accuracy", out _));
        var scoresVersion = (await client.Http.GetFromJsonAsync<ModelVersionDto>($"{client.Base}/models/scores/versions/1", TrainingClient.Json))!;
        Assert.True(scoresVersion.Metrics.GetProperty("r2").GetDouble() > 0.9, scoresVersion.Metrics.ToString());
        Assert.True(scoresVersion.Metrics.GetProperty("rmse").GetDouble() < 5, scoresVersion.Metrics.ToString());
        Assert.True(scoresVersion.Metrics.TryGetProperty("mae", out _));

        // The multiclass model answers with the class names, from the text alone.
        var ml = new MLContext(1);
        var model = ml.Model.Load(new MemoryStream(await client.Http.GetByteArrayAsync($"{client.Base}/models/topics/versions/1/artifact")), out _);
        var rows = ml.Data.LoadFromEnumerable(new[] { new ReviewInput { review = "the coach saw the team score a goal" }, new ReviewInput { review = "a kernel compiler on a cloud server" } });
        Assert.Equal(["sport", "tech"], model.Transform(rows).GetColumn<ReadOnlyMemory<char>>("PredictedLabel").Select(v => v.ToString()));
    }

    private sealed class ReviewInput
    {
        public string review { get; set; } = "";
    }

    [Fact]
    public async Task Submit_AnswersWithFieldErrors_WhenTheTableDoesNotFitTheTask()
    {
        var client = await ManagerAsync();
        await client.PushDatasetAsync("churn", ("customers.csv", ChurnCsv(50)));

        async Task<JsonElement> ErrorsAsync(Dictionary<string, string> hyperparameters)
        {
            var response = await client.SubmitRawAsync(MlNetSpec("bad", "churn", hyperparameters));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            return (await TrainingClient.ProblemAsync(response)).GetProperty("errors");
        }

        var missing = await ErrorsAsync(new() { ["task"] = "binary", ["label"] = "cancelled" });
        Assert.Contains("no column 'cancelled'", missing.GetProperty("hyperparameters.label")[0].GetString());
        var wrongType = await ErrorsAsync(new() { ["task"] = "regression", ["label"] = "plan" });
        Assert.Contains("regression needs a numeric label", wrongType.GetProperty("hyperparameters.label")[0].GetString());
        var binaryText = await ErrorsAsync(new() { ["task"] = "binary", ["label"] = "id" });
        Assert.Contains("binary classification needs a bool", binaryText.GetProperty("hyperparameters.label")[0].GetString());
        var badSettings = await ErrorsAsync(new() { ["task"] = "ranking", ["trainer"] = "xgboost", ["seed"] = "-1", ["validationFraction"] = "2" });
        foreach (var field in new[] { "hyperparameters.task", "hyperparameters.trainer", "hyperparameters.label", "hyperparameters.seed", "hyperparameters.validationFraction" })
            Assert.True(badSettings.TryGetProperty(field, out _), $"no error for {field}: {badSettings}");
        var badFeature = await ErrorsAsync(new() { ["task"] = "binary", ["label"] = "churned", ["features"] = "x1,nope", ["table"] = "customers.csv" });
        Assert.Contains("no column 'nope'", badFeature.GetProperty("hyperparameters.features")[0].GetString());
        var badTable = await ErrorsAsync(new() { ["task"] = "binary", ["label"] = "churned", ["table"] = "other.csv" });
        Assert.Contains("customers.csv", badTable.GetProperty("hyperparameters.table")[0].GetString());

        await client.PushDatasetAsync("empty", ("empty.csv", "x1,churned\n"u8.ToArray()));
        var empty = await client.SubmitRawAsync(MlNetSpec("bad", "empty", new() { ["task"] = "binary", ["label"] = "churned" }));
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("is empty", (await TrainingClient.ProblemAsync(empty)).GetProperty("errors").GetProperty("inputs[0]")[0].GetString());

        var noInput = await client.SubmitRawAsync(new { name = "bad", framework = "mlnet", hyperparameters = new Dictionary<string, string> { ["task"] = "binary", ["label"] = "y" } });
        Assert.Equal(HttpStatusCode.BadRequest, noInput.StatusCode);
        Assert.True((await TrainingClient.ProblemAsync(noInput)).GetProperty("errors").TryGetProperty("inputs", out _));
    }
}

public sealed class SqliteMlNetApiTests(SqliteCubeApp app) : MlNetApiTests(app), IClassFixture<SqliteCubeApp>;

public sealed class PostgresMlNetApiTests(PostgresCubeApp app) : MlNetApiTests(app), IClassFixture<PostgresCubeApp>;
