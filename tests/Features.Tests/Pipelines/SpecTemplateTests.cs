using Cube.Core.Errors;
using Cube.Features.Pipelines;

namespace Cube.Features.Tests.Pipelines;

public sealed class SpecTemplateTests
{
    private const string Spec = """
        name: daily
        params:
          min_amount: 2.5
          region: {default: FR, description: sales region}
        inputs:
          events: {dataset: events, tag: "day-{{ds}}", table: events.csv}
          prices: {dataset: prices, version: "{{params.v}}", table: prices.csv}
        steps:
          - {name: today, op: filter, input: events, expr: "seen_at >= '{{ ds }}' and amount > {{params.min_amount}} and region == '{{params.region}}'"}
          - {name: stamp, op: derive, column: at, expr: "'{{ts}}'"}
        output: stamp
        publish: {tag: "ds-{{ds}}", message: "Events of {{ds}} in {{params.region}}"}
        """;

    [Fact]
    public void Parse_NamesEveryUnknownParameter_WithItsStepFieldAndTheClosestName()
    {
        var error = Assert.Throws<PipelineValidationException>(() => PipelineSpec.Parse(Spec));
        var unknown = Assert.Single(error.Errors);
        Assert.Equal((null, "inputs.prices.version"), (unknown.Step, unknown.Field));
        Assert.Contains("'{{params.v}}'", unknown.Message, StringComparison.Ordinal);

        var typos = Assert.Throws<PipelineValidationException>(() => PipelineSpec.Parse(
            Spec.Replace("{{params.v}}", "3", StringComparison.Ordinal).Replace("{{params.min_amount}}", "{{params.min_amont}}", StringComparison.Ordinal)
                .Replace("{{ts}}", "{{dt", StringComparison.Ordinal)));
        Assert.Contains(typos.Errors, e => e.Step == "today" && e.Field == "expr" && e.Message.Contains("Did you mean '{{params.min_amount}}'?", StringComparison.Ordinal));
        Assert.Contains(typos.Errors, e => e.Step == "stamp" && e.Field == "expr" && e.Message.Contains("not closed", StringComparison.Ordinal));

        var undeclared = Assert.Throws<PipelineValidationException>(() => PipelineSpec.Parse(
            "name: p\ninputs: {a: {dataset: d, table: t}}\nsteps:\n  - {name: f, op: filter, expr: \"x > {{params.limit}}\"}\n"));
        Assert.Contains("Declare it under 'params'", Assert.Single(undeclared.Errors).Message, StringComparison.Ordinal);

        var badDefault = Assert.Throws<PipelineValidationException>(() => PipelineSpec.Parse(Spec.Replace("min_amount: 2.5", "min_amount: null", StringComparison.Ordinal)));
        Assert.Contains(badDefault.Errors, e => e.Field == "params.min_amount" && e.Message.Contains("needs a default", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_FillsDateInstantAndParameters_InInputsStepsAndPublish()
    {
        var spec = PipelineSpec.Parse(Spec.Replace("min_amount: 2.5", "min_amount: 2.5\n  v: 4", StringComparison.Ordinal));
        Assert.True(spec.IsTemplated);
        // Stored as written: the placeholders survive a round trip through JSON.
        var stored = PipelineSpec.FromJson(spec.ToJson());
        Assert.Equal("{{params.v}}", stored.Inputs["prices"].VersionText);
        Assert.Equal(["min_amount", "region", "v"], stored.Parameters.Keys.Order(StringComparer.Ordinal));

        var values = SpecTemplate.Values(stored, "2030-01-02", new DateTimeOffset(2030, 1, 2, 3, 0, 0, TimeSpan.Zero), new Dictionary<string, string> { ["region"] = "DE" });
        var rendered = SpecTemplate.Render(stored, values);
        Assert.False(rendered.IsTemplated);
        Assert.Equal(("day-2030-01-02", true), (rendered.Inputs["events"].Tag, rendered.Inputs["events"].Templated));
        Assert.Equal((4, (string?)null, true), (rendered.Inputs["prices"].Version, rendered.Inputs["prices"].VersionText, rendered.Inputs["prices"].Templated));
        Assert.Equal("seen_at >= '2030-01-02' and amount > 2.5 and region == 'DE'", rendered.Steps[0].Params["expr"]!.GetValue<string>());
        Assert.Equal("'2030-01-02T03:00:00Z'", rendered.Steps[1].Params["expr"]!.GetValue<string>());
        Assert.Equal(("ds-2030-01-02", "Events of 2030-01-02 in DE"), (rendered.Publish!.Tag, rendered.Publish.Message));
    }

    [Fact]
    public void Render_WritesAQuotedPlaceholderAsLiteralText()
    {
        var spec = PipelineSpec.Parse("""
            name: literal
            inputs: {events: {dataset: events, table: events.csv}}
            steps:
              - {name: code, op: filter, input: events, expr: "contains(note, '{{ '{{' }}') or day == '{{ds}}'"}
            output: code
            publish: {message: "Braces {{'{{'}}ds}} stay, {{ds}} is filled"}
            """);
        var rendered = SpecTemplate.Render(spec, SpecTemplate.Values(spec, "2030-01-02", DateTimeOffset.UnixEpoch, null));
        Assert.Equal("contains(note, '{{') or day == '2030-01-02'", rendered.Steps[0].Params["expr"]!.GetValue<string>());
        Assert.Equal("Braces {{ds}} stay, 2030-01-02 is filled", rendered.Publish!.Message);
        // Stored and read back (a schedule keeps the spec it ran), the braces stay text.
        var stored = PipelineSpec.FromJson(rendered.ToJson());
        Assert.False(stored.IsTemplated);
        Assert.Equal(rendered.Publish.Message, stored.Publish!.Message);
        var handWritten = Assert.Throws<PipelineValidationException>(() => PipelineSpec.Parse("rendered: true\nname: p\ninputs: {a: {dataset: d, table: t}}\nsteps:\n  - {name: f, op: filter, expr: \"x > 1\"}\n"));
        Assert.Equal("rendered", Assert.Single(handWritten.Errors).Field);
    }

    [Fact]
    public void Values_RefusesUndeclaredParametersAndBadDates_NamingThem()
    {
        var spec = PipelineSpec.Parse(Spec.Replace("{{params.v}}", "3", StringComparison.Ordinal));
        var error = Assert.Throws<ValidationException>(() => SpecTemplate.Values(spec, "2030-02-30", DateTimeOffset.UnixEpoch,
            new Dictionary<string, string> { ["regoin"] = "DE" }));
        Assert.Contains("Did you mean 'region'?", error.Errors["parameters.regoin"][0], StringComparison.Ordinal);
        Assert.Contains("yyyy-MM-dd", error.Errors["ds"][0], StringComparison.Ordinal);

        // A rendered version that is not a number, or a publish tag that is not a tag, is a validation error too.
        var version = PipelineSpec.Parse(Spec.Replace("min_amount: 2.5", "min_amount: 2.5\n  v: latest", StringComparison.Ordinal));
        var notNumber = Assert.Throws<PipelineValidationException>(() => SpecTemplate.Render(version, SpecTemplate.Values(version, null, DateTimeOffset.UnixEpoch, null)));
        Assert.Equal("inputs.prices.version", Assert.Single(notNumber.Errors).Field);
        var tag = PipelineSpec.Parse(Spec.Replace("{{params.v}}", "3", StringComparison.Ordinal).Replace("ds-{{ds}}", "DS {{ds}}", StringComparison.Ordinal));
        var badTag = Assert.Throws<PipelineValidationException>(() => SpecTemplate.Render(tag, SpecTemplate.Values(tag, "2030-01-01", DateTimeOffset.UnixEpoch, null)));
        Assert.Equal("publish.tag", Assert.Single(badTag.Errors).Field);
    }
}
