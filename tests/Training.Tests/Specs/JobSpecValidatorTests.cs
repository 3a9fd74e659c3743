using System.Text.Json;
using Cube.Core.Errors;
using Cube.Training.Specs;

namespace Cube.Training.Tests.Specs;

public sealed class JobSpecValidatorTests
{
    [Fact]
    public void Validate_AcceptsEveryGeneratedSpec()
    {
        foreach (var spec in SampleSpecs.Generated(seed: 1))
            Assert.Empty(JobSpecValidator.Validate(spec));
        Assert.Empty(JobSpecValidator.Validate(SampleSpecs.Valid()));
    }

    [Theory]
    [InlineData("name", "Bad_Name")]
    [InlineData("image", null)]
    [InlineData("resources.gpus", -1)]
    [InlineData("resources.memory", "16 gigs")]
    [InlineData("resources.cpu", "0")]
    [InlineData("workers", 0)]
    [InlineData("env.CUBE_JOB_ID", "x")]
    [InlineData("env.1BAD", "x")]
    [InlineData("retries", 11)]
    [InlineData("timeoutSeconds", 0)]
    [InlineData("scheduling.queue", "q")]
    [InlineData("command", null)]
    public void Validate_NamesTheField_WhenOneFieldIsWrong(string field, object? value)
    {
        var spec = SampleSpecs.Valid();
        spec = field switch
        {
            "name" => spec with { Name = (string)value! },
            "image" => spec with { Image = null },
            "resources.gpus" => spec with { Resources = spec.Resources with { Gpus = (int)value! } },
            "resources.memory" => spec with { Resources = spec.Resources with { Memory = (string)value! } },
            "resources.cpu" => spec with { Resources = spec.Resources with { Cpu = (string)value! } },
            "workers" => spec with { Workers = (int)value! },
            "env.CUBE_JOB_ID" => spec with { Env = new Dictionary<string, string> { ["CUBE_JOB_ID"] = "x" } },
            "env.1BAD" => spec with { Env = new Dictionary<string, string> { ["1BAD"] = "x" } },
            "retries" => spec with { Retries = (int)value! },
            "timeoutSeconds" => spec with { TimeoutSeconds = (int)value! },
            // Queues are a Volcano feature; a PyTorchJob with one is an error.
            "scheduling.queue" => spec with { Scheduling = new Scheduling { Queue = "team-a" } },
            "command" => spec with { Command = [] },
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };
        var errors = JobSpecValidator.Validate(spec);
        Assert.Equal([field], errors.Keys);
    }

    [Fact]
    public void Validate_ReportsEveryProblem_WithIndexedPaths()
    {
        var spec = SampleSpecs.Valid(Distribution.Volcano) with
        {
            Inputs = [new DatasetInput { Dataset = "a" }, new DatasetInput { Dataset = "", Version = "" }, new DatasetInput { Name = "a", Dataset = "b" }],
            Scheduling = new Scheduling
            {
                Tolerations = [new TolerationSpec { Key = "k", Operator = "Exists", Value = "v" }, new TolerationSpec { Operator = "Sometimes", Effect = "Never" }],
                NodeSelector = new Dictionary<string, string> { ["pool"] = "has space" },
            },
        };
        var errors = JobSpecValidator.Validate(spec);
        Assert.Contains("inputs[1].dataset", errors.Keys);
        Assert.Contains("inputs[1].version", errors.Keys);
        Assert.Contains("inputs[2].name", errors.Keys);
        Assert.Contains("scheduling.tolerations[0].value", errors.Keys);
        Assert.Contains("scheduling.tolerations[1].operator", errors.Keys);
        Assert.Contains("scheduling.tolerations[1].effect", errors.Keys);
        Assert.Contains("scheduling.nodeSelector.pool", errors.Keys);
        var thrown = Assert.Throws<ValidationException>(() => JobSpecValidator.EnsureValid(spec));
        Assert.Equal(400, thrown.StatusCode);
    }

    [Fact]
    public void Validate_TreatsJsonNullsAsMissing_InsteadOfThrowing()
    {
        var spec = JsonSerializer.Deserialize<JobSpec>(
            "{\"name\":null,\"command\":null,\"args\":null,\"env\":null,\"resources\":null,\"inputs\":null,\"hyperparameters\":null,\"scheduling\":{\"nodeSelector\":null,\"tolerations\":[null]}}",
            new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        var errors = JobSpecValidator.Validate(spec);
        Assert.Equal(["command", "name", "scheduling.tolerations[0]"], errors.Keys.Order(StringComparer.Ordinal));
        var normalized = JobSpecValidator.Normalize(spec);
        Assert.Empty(normalized.Env);
        Assert.Equal(0, normalized.Resources.Gpus);
    }

    [Fact]
    public void Spec_ReadsFromJson_WithKebabCaseDistribution()
    {
        var spec = JsonSerializer.Deserialize<JobSpec>("""
            {"name":"n","distribution":"indexed-job","framework":"pytorch","image":"busybox","command":["sh"],"resources":{"gpus":1}}
            """, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        Assert.Equal(Distribution.IndexedJob, spec.Distribution);
        Assert.Equal(Framework.PyTorch, spec.Framework);
        Assert.Equal(1, spec.Resources.Gpus);
        Assert.Empty(JobSpecValidator.Validate(spec));
    }
}
