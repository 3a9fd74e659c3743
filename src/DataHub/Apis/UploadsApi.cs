using System.Security.Claims;
using Cube.Core.Apis;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Core.Net;
using Cube.Core.Runs;
using Cube.DataHub.Catalog;
using Cube.DataHub.Data;
using Cube.DataHub.Ingest;
using Cube.DataHub.Uploads;
using Cube.DataHub.Versions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cube.DataHub.Apis;

public sealed record UploadSessionDto(Guid Id, string State, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, Guid? RunId, IReadOnlyList<StagedFileDto> Files);
public sealed record StagedFileDto(string Path, long DeclaredSize, long ReceivedBytes, bool Complete, string? Sha256, bool Delete, bool Extract);
public sealed record DeletePathsRequest(IReadOnlyList<string> Paths);
public sealed record CommitRequest(string? Message, string? Mode, bool? Wait);
public sealed record ImportRequest(string? Url, S3Source? S3, string? Folder, string? Message, bool? Wait);

/// <summary>
/// Uploads: open a session, PUT files (whole, or resumable chunks with <c>Content-Range</c>), mark deletions, commit.
/// A commit is a run; with <c>wait</c> the response carries the new version, or the problem that stopped it.
/// </summary>
public static class UploadsApi
{
    public static IEndpointRouteBuilder MapUploadsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/projects/{project}/datasets/{dataset}/uploads").WithTags("Uploads")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapPost("/", CreateAsync).WithName("CreateUploadSession").WithSummary("Opens an upload session for the next version.");
        group.MapGet("/{session:guid}", GetAsync).WithName("GetUploadSession").WithSummary("Staged files with bytes received, for resuming.");
        group.MapPut("/{session:guid}/files/{**path}", PutFileAsync).WithName("UploadFile")
            .WithSummary("Stages a file. Send the whole body, or chunks with 'Content-Range: bytes start-end/total' in order; ?extract=true expands a zip at commit.")
            .DisableAntiforgery().WithMetadata(new Microsoft.AspNetCore.Mvc.DisableRequestSizeLimitAttribute());
        group.MapPost("/{session:guid}/deletions", DeleteAsync).WithName("StageDeletions").WithSummary("Removes paths (files or folders) of the parent version in the next version.");
        endpoints.MapPost("/api/projects/{project}/datasets/{dataset}/imports", ImportAsync).WithTags("Uploads").WithName("ImportIntoDataset")
            .WithSummary("Imports a URL or every object under an S3 prefix into the next version, as a run; ?wait returns its outcome.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapPost("/{session:guid}/commit", CommitAsync).WithName("CommitUpload").WithSummary("Creates the next version from the session as a run; ?wait returns its outcome.");
        return endpoints;
    }

    private static async Task<Created<UploadSessionDto>> CreateAsync(string dataset, HttpContext http, ClaimsPrincipal user, DatasetResolver resolver, UploadService uploads, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var found = await resolver.DatasetAsync(project.Id, dataset, cancellationToken);
        var session = await uploads.CreateSessionAsync(found, user.RequireUserId(), cancellationToken);
        return TypedResults.Created($"/api/projects/{project.Slug}/datasets/{found.Name}/uploads/{session.Id}", ToDto(session, []));
    }

    private static async Task<Ok<UploadSessionDto>> GetAsync(string dataset, Guid session, HttpContext http, DatasetResolver resolver, DataHubDbContext db, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var found = await resolver.DatasetAsync(project.Id, dataset, cancellationToken);
        var row = await db.UploadSessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == session && s.DatasetId == found.Id, cancellationToken)
            ?? throw new NotFoundException("Upload session", session.ToString());
        var files = await db.StagedFiles.AsNoTracking().Where(f => f.SessionId == session).ToListAsync(cancellationToken);
        return TypedResults.Ok(ToDto(row, files));
    }

    private static async Task<Ok<StagedFileDto>> PutFileAsync(string dataset, Guid session, string path, bool? extract, HttpContext http, DatasetResolver resolver, UploadService uploads, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var found = await resolver.DatasetAsync(project.Id, dataset, cancellationToken);
        var open = await uploads.OpenSessionAsync(found, session, cancellationToken);
        var range = ChunkRange.Parse(http.Request.Headers.ContentRange);
        var staged = await uploads.StageAsync(open, RoutePaths.Decode(path), http.Request.Body, range, extract == true, cancellationToken);
        http.Response.Headers["Upload-Offset"] = staged.ReceivedBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Ok(ToDto(staged));
    }

    private static async Task<NoContent> DeleteAsync(string dataset, Guid session, DeletePathsRequest request, HttpContext http, DatasetResolver resolver, UploadService uploads, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var found = await resolver.DatasetAsync(project.Id, dataset, cancellationToken);
        var open = await uploads.OpenSessionAsync(found, session, cancellationToken);
        await uploads.StageDeletionsAsync(open, request.Paths ?? [], cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> CommitAsync(string dataset, Guid session, CommitRequest request, HttpContext http, ClaimsPrincipal user,
        DatasetResolver resolver, UploadService uploads, DataHubDbContext db, RunService runs, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var found = await resolver.DatasetAsync(project.Id, dataset, cancellationToken);
        await uploads.OpenSessionAsync(found, session, cancellationToken);
        var mode = request.Mode ?? "merge";
        if (mode is not ("merge" or "replace")) throw new ValidationException("mode", "A mode is 'merge' (parent files plus changes) or 'replace' (only the staged files).");
        // Open -> Committing exactly once: a second commit request for the same session gets 409.
        var claimed = await db.UploadSessions.Where(s => s.Id == session && s.State == UploadSessionState.Open)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.State, UploadSessionState.Committing), cancellationToken);
        if (claimed == 0) throw new ConflictException($"Upload session {session} is already being committed.");

        var run = await runs.EnqueueAsync(CommitHandler.RunKind,
            new CommitParameters(found.Id, session, request.Message ?? "", user.RequireUserId(), mode), user.RequireUserId(), project.Id, cancellationToken);
        await db.UploadSessions.Where(s => s.Id == session).ExecuteUpdateAsync(s => s.SetProperty(x => x.RunId, run.Id), cancellationToken);
        if (request.Wait != true) return TypedResults.Accepted($"/api/runs/{run.Id}", RunDto.From(run));
        return await RunOutcome.WaitAsync(run.Id, runs, cancellationToken);
    }

    private static async Task<IResult> ImportAsync(string dataset, ImportRequest request, HttpContext http, ClaimsPrincipal user,
        DatasetResolver resolver, RunService runs, IOptions<DataHubOptions> options, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var found = await resolver.DatasetAsync(project.Id, dataset, cancellationToken);
        if ((request.Url is null) == (request.S3 is null)) throw new ValidationException("source", "Name exactly one of url or s3.");
        if (request.Url is not null && !Uri.TryCreate(request.Url, UriKind.Absolute, out _)) throw new ValidationException("url", $"'{request.Url}' is not an absolute URL.");
        if (request.S3 is { } s3 && (!Uri.TryCreate(s3.Endpoint, UriKind.Absolute, out _) || string.IsNullOrWhiteSpace(s3.Bucket)))
            throw new ValidationException("s3", "An S3 import names an absolute endpoint URL and a bucket.");
        // Refuse internal targets before queuing, so the caller gets the reason at once; the run checks again on connect.
        var guard = new NetworkGuard(options.Value.Import);
        await guard.CheckAsync(new Uri(request.Url ?? request.S3!.Endpoint), cancellationToken);
        var userId = user.RequireUserId();
        var run = await runs.EnqueueAsync(ImportHandler.RunKind,
            new ImportParameters(found.Id, userId, request.Message ?? $"Import from {request.Url ?? request.S3!.Endpoint}", request.Url, request.S3, request.Folder),
            userId, project.Id, cancellationToken);
        if (request.Wait != true) return TypedResults.Accepted($"/api/runs/{run.Id}", RunDto.From(run));
        return await RunOutcome.WaitAsync(run.Id, runs, cancellationToken);
    }

    private static UploadSessionDto ToDto(UploadSession s, IReadOnlyList<StagedFile> files) =>
        new(s.Id, s.State.ToString().ToLowerInvariant(), s.CreatedAt, s.ExpiresAt, s.RunId, files.OrderBy(f => f.Path, StringComparer.Ordinal).Select(ToDto).ToList());

    private static StagedFileDto ToDto(StagedFile f) => new(f.Path, f.DeclaredSize, f.ReceivedBytes, f.IsComplete, f.Sha256, f.Delete, f.Extract);
}

/// <summary>Waits for a run and turns its end into an HTTP answer: the result on success, the run's problem otherwise.</summary>
internal static class RunOutcome
{
    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web);

    /// <summary>How long a request that asked to wait holds on before it answers 202 with the run to follow.</summary>
    private static readonly TimeSpan MostWait = TimeSpan.FromMinutes(5);

    public static async Task<IResult> WaitAsync(Guid runId, RunService runs, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + MostWait;
        while (true)
        {
            var run = await runs.FindAsync(runId, cancellationToken) ?? throw new NotFoundException("Run", runId.ToString());
            switch (run.State)
            {
                case RunState.Succeeded:
                    return TypedResults.Ok(RunDto.From(run));
                case RunState.Failed:
                    var problem = run.ResultJson is null ? null : System.Text.Json.JsonSerializer.Deserialize<RunProblem>(run.ResultJson, Json);
                    var extensions = new Dictionary<string, object?>(problem?.Extensions ?? new Dictionary<string, object?>()) { ["runId"] = run.Id };
                    return TypedResults.Problem(statusCode: problem?.Status ?? 500, title: problem?.Title ?? "The run failed", detail: run.Error, extensions: extensions);
                case RunState.Cancelled:
                    return TypedResults.Problem(statusCode: 409, title: "The run was cancelled", detail: run.Message,
                        extensions: new Dictionary<string, object?> { ["runId"] = run.Id });
            }
            if (DateTime.UtcNow > until) return TypedResults.Accepted($"/api/runs/{run.Id}", RunDto.From(run));
            await Task.Delay(100, cancellationToken);
        }
    }
}

/// <summary>Catch-all route values keep '%2F' encoded; a client that escaped the slashes of a path means them as separators.</summary>
internal static class RoutePaths
{
    public static string Decode(string path) => path.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
}
