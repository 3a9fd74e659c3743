using System.Security.Claims;
using System.Text.Json.Nodes;
using Cube.Core.Apis;
using Cube.Core.Data;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Runs;
using Cube.Features.Data;
using Cube.Features.Engine;
using Cube.Features.Pipelines;
using Cube.Features.Runs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Cube.Features.Apis;

public sealed record PipelineRequest(string? Name, string Spec);
public sealed record StepSchemaDto(string Name, string Op, string Input, IReadOnlyList<FieldDef>? Schema);
public sealed record ValidationDto(bool Valid, IReadOnlyList<StepSchemaDto> Steps, IReadOnlyList<string> Deferred);
public sealed record PipelineDto(Guid Id, string Name, int Version, JsonObject Spec, DateTimeOffset UpdatedAt);
public sealed record PreviewRequest(string? Spec, int? Limit, int? Show)
{
    /// <summary>The logical date <c>{{ds}}</c> stands for (yyyy-MM-dd); today (UTC) when left out.</summary>
    public string? Ds { get; init; }
    /// <summary>Values for the spec's declared parameters; the others keep their defaults.</summary>
    public Dictionary<string, string>? Parameters { get; init; }
}

public sealed record RunRequest(string OutputDataset)
{
    /// <summary>The run's logical date <c>{{ds}}</c> (yyyy-MM-dd); today (UTC) when left out.</summary>
    public string? Ds { get; init; }
    /// <summary>Values for the spec's declared parameters; the others keep their defaults.</summary>
    public Dictionary<string, string>? Parameters { get; init; }
}
public sealed record TransformRequest(IReadOnlyList<JsonObject> Rows);
public sealed record TransformDto(int PipelineVersion, Guid FittedStateId, IReadOnlyList<JsonObject> Rows);

/// <summary>Feature pipelines of a project: operator catalogue, validation, versioned specs, preview, runs and online transform.</summary>
public static class PipelinesApi
{
    public static IEndpointRouteBuilder MapPipelinesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/projects/{project}/features").WithTags("Features");
        group.MapGet("/operators", () => TypedResults.Ok(OperatorCatalog.All)).WithName("ListFeatureOperators")
            .WithSummary("Every operator with its parameters as JSON Schema.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("/pipelines/validate", ValidateAsync).WithName("ValidateFeaturePipeline")
            .WithSummary("Validates a spec against the project's data: each step's schema, or 422 with every error.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/pipelines", ListAsync).WithName("ListFeaturePipelines").WithSummary("Pipelines of the project.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapGet("/pipelines/{name}", GetAsync).WithName("GetFeaturePipeline").WithSummary("The latest spec of a pipeline.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("/pipelines", CreateAsync).WithName("CreateFeaturePipeline").WithSummary("Creates a pipeline from a validated spec.").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapPut("/pipelines/{name}", UpdateAsync).WithName("UpdateFeaturePipeline").WithSummary("Stores a new version of the spec.").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapPost("/pipelines/{name}/preview", PreviewAsync).WithName("PreviewFeaturePipeline")
            .WithSummary("Fits and runs on the first N rows: each step's schema, rows, time and first rows.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("/pipelines/{name}/runs", RunAsync).WithName("RunFeaturePipeline")
            .WithSummary("Starts a full run writing a new version of the output dataset.").RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/pipelines/{name}/runs", ListRunsAsync).WithName("ListFeaturePipelineRuns")
            .WithSummary("Runs of a pipeline, newest first: state, progress and, once done, rows and per-step timings.").RequireAuthorization(CubePolicies.ProjectViewer);
        group.MapPost("/pipelines/{name}/transform", TransformAsync).WithName("TransformFeatureRows")
            .WithSummary("Online transform of JSON rows with the latest fitted state.").RequireAuthorization(CubePolicies.ProjectViewer);
        return endpoints;
    }

    private static PipelineSpec Parse(string? spec) =>
        string.IsNullOrWhiteSpace(spec) ? throw new ValidationException("spec", "The spec (YAML or JSON text) is required.") : PipelineSpec.Parse(spec);

    private static async Task<Ok<ValidationDto>> ValidateAsync(PipelineRequest request, HttpContext http, PipelineService service, CancellationToken cancellationToken)
    {
        var spec = Parse(request.Spec);
        var (pipeline, _) = await service.CompileAsync((await http.GetProjectAsync()).Id, SpecTemplate.Render(spec, service.Values(spec)), cancellationToken, latestForTemplated: true);
        using (pipeline)
            return TypedResults.Ok(new ValidationDto(true, pipeline.Order.Select(s => new StepSchemaDto(s.Name, s.Spec.Op, s.Input, s.OutputSchema?.Fields)).ToList(), pipeline.Deferred));
    }

    private static async Task<Ok<List<PipelineDto>>> ListAsync(HttpContext http, FeaturesDbContext db, CancellationToken cancellationToken)
    {
        var projectId = (await http.GetProjectAsync()).Id;
        var rows = await (from p in db.Pipelines.AsNoTracking()
                          join v in db.PipelineVersions.AsNoTracking() on new { p.Id, N = p.LatestVersion } equals new { Id = v.PipelineId, N = v.Number }
                          where p.ProjectId == projectId
                          orderby p.Name
                          select new { p, v }).ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(r => Dto(r.p, r.v)).ToList());
    }

    private static PipelineDto Dto(FeaturePipelineEntity p, PipelineVersion v) => new(p.Id, p.Name, v.Number, JsonNode.Parse(v.SpecJson)!.AsObject(), p.UpdatedAt);

    private static async Task<Ok<PipelineDto>> GetAsync(string name, HttpContext http, PipelineService service, CancellationToken cancellationToken)
    {
        var pipeline = await service.FindAsync((await http.GetProjectAsync()).Id, name, cancellationToken);
        return TypedResults.Ok(Dto(pipeline, await service.LatestVersionAsync(pipeline, cancellationToken)));
    }

    private static async Task<Created<PipelineDto>> CreateAsync(PipelineRequest request, HttpContext http, ClaimsPrincipal user, PipelineService service, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 128 || !request.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ValidationException("name", "The name must be 1 to 128 letters, digits, '-', '_' or '.'.");
        var (pipeline, version) = await service.SaveAsync(project.Id, request.Name, Parse(request.Spec), user.RequireUserId(), create: true, cancellationToken);
        return TypedResults.Created($"/api/projects/{project.Slug}/features/pipelines/{pipeline.Name}", Dto(pipeline, version));
    }

    private static async Task<Ok<PipelineDto>> UpdateAsync(string name, PipelineRequest request, HttpContext http, ClaimsPrincipal user, PipelineService service, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var (pipeline, version) = await service.SaveAsync(project.Id, name, Parse(request.Spec), user.RequireUserId(), create: false, cancellationToken);
        return TypedResults.Ok(Dto(pipeline, version));
    }

    private static async Task<Ok<PreviewReport>> PreviewAsync(string name, PreviewRequest request, HttpContext http, PipelineService service, CancellationToken cancellationToken)
    {
        var projectId = (await http.GetProjectAsync()).Id;
        var limit = request.Limit ?? 10_000;
        if (limit is < 1 or > 100_000) throw new ValidationException("limit", "The preview limit must be between 1 and 100,000 rows.");
        PipelineSpec spec;
        if (request.Spec is not null) spec = Parse(request.Spec);
        else
        {
            var pipeline = await service.FindAsync(projectId, name, cancellationToken);
            spec = PipelineSpec.FromJson(JsonNode.Parse((await service.LatestVersionAsync(pipeline, cancellationToken)).SpecJson)!.AsObject());
        }
        var rendered = SpecTemplate.Render(spec, service.Values(spec, request.Ds, request.Parameters));
        return TypedResults.Ok(await service.PreviewAsync(projectId, rendered, limit, Math.Clamp(request.Show ?? 10, 0, 100), cancellationToken));
    }

    private static async Task<Accepted<RunDto>> RunAsync(string name, RunRequest request, HttpContext http, ClaimsPrincipal user, PipelineService service,
        DataHub.Catalog.DatasetResolver resolver, RunService runs, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var pipeline = await service.FindAsync(project.Id, name, cancellationToken);
        var version = await service.LatestVersionAsync(pipeline, cancellationToken);
        if (string.IsNullOrWhiteSpace(request.OutputDataset)) throw new ValidationException("outputDataset", "Name the dataset the run writes a new version of.");
        var spec = PipelineSpec.FromJson(JsonNode.Parse(version.SpecJson)!.AsObject());
        // Checked now, so a bad date or an undeclared parameter is a 400 rather than a failed run.
        var values = service.Values(spec, request.Ds, request.Parameters);
        await resolver.DatasetAsync(project.Id, request.OutputDataset, cancellationToken);
        var run = await runs.EnqueueAsync(PipelineRunHandler.RunKind,
            new PipelineRunParameters(project.Id, pipeline.Id, version.Id, request.OutputDataset, user.RequireUserId())
            {
                LogicalDate = values.Ts, Ds = values.Ds, Parameters = request.Parameters is { Count: > 0 } ? request.Parameters : null,
            }, user.RequireUserId(), project.Id, cancellationToken);
        return TypedResults.Accepted($"/api/runs/{run.Id}", RunDto.From(run));
    }

    private static async Task<Ok<List<RunDto>>> ListRunsAsync(string name, int? limit, HttpContext http, PipelineService service, CoreDbContext core, CancellationToken cancellationToken)
    {
        var take = limit ?? 20;
        if (take is < 1 or > 200) throw new ValidationException("limit", "The limit must be between 1 and 200 runs.");
        var project = await http.GetProjectAsync();
        var pipeline = await service.FindAsync(project.Id, name, cancellationToken);
        var runs = await core.Runs.AsNoTracking()
            .Where(r => r.SubjectId == pipeline.Id && r.Kind == PipelineRunHandler.RunKind && r.ProjectId == project.Id)
            .OrderByDescending(r => r.Id).Take(take).ToListAsync(cancellationToken);
        return TypedResults.Ok(runs.Select(RunDto.From).ToList());
    }

    private static async Task<Ok<TransformDto>> TransformAsync(string name, TransformRequest request, HttpContext http, PipelineService service, CancellationToken cancellationToken)
    {
        if (request.Rows is not { Count: > 0 and <= 10_000 }) throw new ValidationException("rows", "Send 1 to 10,000 rows.");
        var pipeline = await service.FindAsync((await http.GetProjectAsync()).Id, name, cancellationToken);
        var (stateEntity, version) = await service.LatestStateAsync(pipeline, cancellationToken);
        var state = FittedState.FromJson(stateEntity.StateJson);
        var spec = PipelineSpec.FromJson(JsonNode.Parse(version.SpecJson)!.AsObject());
        // The spec as the fitting run rendered it: a state fitted for one date answers with that date's expressions.
        spec = SpecTemplate.Render(spec, state.Values ?? service.Values(spec));
        using var compiled = FeaturePipeline.Compile(spec, state.InputSchemas(), state);
        if (compiled.OnlineRefusals() is [var first, ..] refusals)
            throw new UnprocessableException($"Pipeline '{name}' cannot transform rows online: step '{first.Step}' ({first.Op}) cannot, because {first.Reason}. Run it in batch instead.")
                .With("steps", refusals.Select(r => r.Step).ToList());
        var frame = RowJson.ToFrame(request.Rows, compiled.Inputs[compiled.OutputSource]);
        try
        {
            return TypedResults.Ok(new TransformDto(version.Number, stateEntity.Id, RowJson.ToRows(compiled.Transform(frame))));
        }
        catch (Operators.TransformException e)
        {
            throw PipelineRunHandler.Failure(e);
        }
    }
}
