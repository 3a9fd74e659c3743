using System.Security.Claims;
using Cube.Core.Apis;
using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Labeling.Configs;
using Cube.Labeling.Data;
using Cube.Labeling.Hosting;
using Cube.Labeling.Projects;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Apis;

/// <summary>Labeling projects of a Cube project and their task pools: create (from a dataset version), configure, pause, add and edit tasks.</summary>
public static class LabelingProjectsApi
{
    public const string Base = "/api/projects/{project}/labeling";

    public static IEndpointRouteBuilder MapLabelingProjectsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Base).WithTags("Labeling");
        group.MapGet("/", ListAsync).WithName("ListLabelingProjects").WithSummary("Labeling projects of the project, with progress.")
            .RequireAuthorization(CubePolicies.ProjectAnnotator);
        group.MapPost("/", CreateAsync).WithName("CreateLabelingProject").WithSummary("Creates a labeling project, optionally with tasks from a dataset version.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/{labeling:guid}", GetAsync).WithName("GetLabelingProject").WithSummary("A labeling project: configuration, instructions, rules and progress.")
            .RequireAuthorization(CubePolicies.ProjectAnnotator);
        group.MapPatch("/{labeling:guid}", UpdateAsync).WithName("UpdateLabelingProject").WithSummary("Pauses, resumes or re-tunes a labeling project (If-Match supported).")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapPost("/{labeling:guid}/tasks", AddTasksAsync).WithName("AddLabelingTasks").WithSummary("Adds tasks, ordinary or gold.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        group.MapGet("/{labeling:guid}/tasks", ListTasksAsync).WithName("ListLabelingTasks").WithSummary("Tasks with their counters, in order.")
            .RequireAuthorization(CubePolicies.ProjectReviewer);
        group.MapPatch("/{labeling:guid}/tasks/{task:guid}", UpdateTaskAsync).WithName("UpdateLabelingTask").WithSummary("Sets a task's priority, or its gold flag and answer.")
            .RequireAuthorization(CubePolicies.ProjectManager);
        return endpoints;
    }

    private static async Task<Ok<List<LabelingProjectDto>>> ListAsync(HttpContext http, LabelingDbContext db, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var rows = await db.Projects.AsNoTracking().Where(p => p.ProjectId == project.Id).OrderBy(p => p.Id).ToListAsync(cancellationToken);
        var result = new List<LabelingProjectDto>();
        foreach (var row in rows) result.Add(LabelingProjectDto.From(row, await ProgressAsync(db, row.Id, cancellationToken)));
        return TypedResults.Ok(result);
    }

    private static async Task<Created<LabelingProjectDto>> CreateAsync(CreateLabelingProjectRequest request, HttpContext http, ClaimsPrincipal user,
        LabelingDbContext db, LabelingProjects projects, [FromKeyedServices(LabelingClock.Key)] TimeProvider time, CancellationToken cancellationToken)
    {
        var project = await http.GetProjectAsync();
        var name = request.Name?.Trim() ?? "";
        if (name.Length is 0 or > 128) throw new ValidationException("name", "A name of 1 to 128 characters is required.");
        var config = LabelConfigValidator.Parse(request.Config);
        if (request.Overlap is < 1 or > 100) throw new ValidationException("overlap", "Overlap must be between 1 and 100 annotators per task.");
        ApiHelpers.Range(request.GoldRate, "goldRate", 0, 1);
        ApiHelpers.Range(request.ReviewRate, "reviewRate", 0, 1);
        if (request.LeaseSeconds is < 10 or > 86_400) throw new ValidationException("leaseSeconds", "Leases last between 10 and 86400 seconds.");
        if (request.Instructions is { Length: > 20_000 }) throw new ValidationException("instructions", "Instructions are at most 20000 characters.");
        var ordering = request.Ordering is null ? TaskOrdering.Sequential : ApiHelpers.ParseEnum<TaskOrdering>(request.Ordering, "ordering");
        if (await db.Projects.AnyAsync(p => p.ProjectId == project.Id && p.Name == name, cancellationToken))
            throw new ConflictException($"Project '{project.Slug}' already has a labeling project named '{name}'.");

        var labeling = new LabelingProject
        {
            ProjectId = project.Id, Name = name, Instructions = request.Instructions, ConfigJson = LabelingProjects.Serialize(config),
            Overlap = request.Overlap ?? 1, Ordering = ordering, GoldRate = request.GoldRate ?? 0, ReviewRate = request.ReviewRate ?? 0,
            LeaseSeconds = request.LeaseSeconds ?? 600, CreatedBy = user.RequireUserId(), CreatedAt = time.GetUtcNow(),
        };
        List<NewTask>? tasks = null;
        if (request.Source is { } source)
        {
            if (string.IsNullOrWhiteSpace(source.Dataset)) throw new ValidationException("source.dataset", "Name the dataset the tasks come from.");
            (labeling.SourceDatasetId, labeling.SourceVersionId, tasks) = await projects.TasksFromDatasetAsync(project.Id, project.Slug, config,
                new TaskSource(source.Dataset, source.Version, source.Prefix, source.Table, source.Column), cancellationToken);
            labeling.SourceTable = source.Table;
            labeling.SourceColumn = source.Column;
        }
        db.Projects.Add(labeling);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            throw new ConflictException($"Project '{project.Slug}' already has a labeling project named '{name}'.");
        }
        db.ChangeTracker.Clear();
        if (tasks is not null) await projects.AddTasksAsync(labeling, tasks, cancellationToken);
        return TypedResults.Created($"/api/projects/{project.Slug}/labeling/{labeling.Id}", LabelingProjectDto.From(labeling, await ProgressAsync(db, labeling.Id, cancellationToken)));
    }

    private static async Task<Ok<LabelingProjectDto>> GetAsync(Guid labeling, HttpContext http, LabelingProjects projects, LabelingDbContext db, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        ETags.Set(http, found.Version);
        return TypedResults.Ok(LabelingProjectDto.From(found, await ProgressAsync(db, found.Id, cancellationToken)));
    }

    private static async Task<Ok<LabelingProjectDto>> UpdateAsync(Guid labeling, UpdateLabelingProjectRequest request, HttpContext http, ClaimsPrincipal user,
        LabelingProjects projects, LabelingDbContext db, Distribution.History history, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling, tracking: true);
        ETags.CheckIfMatch(http, found.Version);
        ApiHelpers.Range(request.GoldRate, "goldRate", 0, 1);
        ApiHelpers.Range(request.ReviewRate, "reviewRate", 0, 1);
        if (request.LeaseSeconds is < 10 or > 86_400) throw new ValidationException("leaseSeconds", "Leases last between 10 and 86400 seconds.");
        if (request.Instructions is { Length: > 20_000 }) throw new ValidationException("instructions", "Instructions are at most 20000 characters.");
        if (request.State is { } state) found.State = ApiHelpers.ParseEnum<LabelingProjectState>(state, "state");
        if (request.Ordering is { } ordering) found.Ordering = ApiHelpers.ParseEnum<TaskOrdering>(ordering, "ordering");
        if (request.Instructions is { } instructions) found.Instructions = instructions;
        if (request.GoldRate is { } gold) found.GoldRate = gold;
        if (request.ReviewRate is { } review) found.ReviewRate = review;
        if (request.LeaseSeconds is { } lease) found.LeaseSeconds = lease;
        if (request.AutoPrelabelEvery is { } every)
        {
            if (every is < 0 or > 1_000_000) throw new ValidationException("autoPrelabelEvery", "autoPrelabelEvery is 0 (off) or between 1 and 1000000 new labels.");
            if (every > 0 && LabelingProjects.Config(found).Kind != LabelingKind.TextClassification)
                throw new ValidationException("autoPrelabelEvery", "Automatic pre-labeling trains the built-in text classifier: only text classification projects can turn it on.");
            // Counting starts now: the first automatic run comes after this many labels more than the project has today.
            // From here on the labels' own transactions keep the count, so checking it after each label costs nothing more.
            if (every > 0 && found.AutoPrelabelEvery is null)
            {
                found.TrainingLabelCount = found.PrelabelMark = await Prelabel.TrainingLabels.Standing(db, found.Id).CountAsync(cancellationToken);
                found.PrelabelSoleClass = null;
            }
            found.AutoPrelabelEvery = every == 0 ? null : every;
        }
        found.Version++;
        history.Add(found.Id, null, null, user.RequireUserId(), "project-changed", request);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new PreconditionFailedException("The labeling project changed while this update ran; read it again and retry.");
        }
        ETags.Set(http, found.Version);
        return TypedResults.Ok(LabelingProjectDto.From(found, await ProgressAsync(db, found.Id, cancellationToken)));
    }

    private static async Task<Created<AddedTasksDto>> AddTasksAsync(Guid labeling, AddTasksRequest request, HttpContext http, LabelingProjects projects, CancellationToken cancellationToken)
    {
        var (project, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        if (request.Tasks is null || request.Tasks.Count == 0) throw new ValidationException("tasks", "Give at least one task.");
        if (request.Tasks.Count > LabelingProjects.MaxTasksPerRequest) throw new ValidationException("tasks", $"At most {LabelingProjects.MaxTasksPerRequest} tasks per request.");
        var created = await projects.AddTasksAsync(found,
            request.Tasks.Select(t => new NewTask(t.Data, t.Priority ?? 0, t.Gold ?? false, t.GoldAnswer)).ToList(), cancellationToken);
        return TypedResults.Created($"/api/projects/{project.Slug}/labeling/{found.Id}/tasks", new AddedTasksDto(created.Count, created.Select(t => t.Id).ToList()));
    }

    private static async Task<Ok<Page<TaskDto>>> ListTasksAsync(Guid labeling, HttpContext http, LabelingProjects projects, LabelingDbContext db,
        bool? gold, string? cursor, int? limit, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var take = Cursor.Limit(limit);
        var query = db.Tasks.AsNoTracking().Where(t => t.LabelingProjectId == found.Id);
        if (gold is { } g) query = query.Where(t => t.IsGold == g);
        if (Cursor.Decode(cursor) is { } after) query = query.Where(t => t.Id > after);
        var rows = await query.OrderBy(t => t.Id).Take(take + 1).ToListAsync(cancellationToken);
        return TypedResults.Ok(Cursor.Build(rows.Select(TaskDto.From).ToList(), take, t => t.Id));
    }

    private static async Task<Ok<TaskDto>> UpdateTaskAsync(Guid labeling, Guid task, UpdateTaskRequest request, HttpContext http, ClaimsPrincipal user,
        LabelingProjects projects, LabelingDbContext db, Distribution.History history, CancellationToken cancellationToken)
    {
        var (_, found) = await ApiHelpers.ResolveAsync(http, projects, labeling);
        var row = await db.Tasks.FirstOrDefaultAsync(t => t.Id == task && t.LabelingProjectId == found.Id, cancellationToken)
            ?? throw new NotFoundException("Task", task.ToString());
        if (request.Priority is { } priority) row.Priority = priority;
        if (request.GoldAnswer is { ValueKind: System.Text.Json.JsonValueKind.Object } answer)
        {
            try
            {
                AnnotationValidator.Validate(LabelingProjects.Config(found), answer, LabelingProjects.Subject(row));
            }
            catch (ValidationException e)
            {
                throw new ValidationException(e.Errors.ToDictionary(x => "goldAnswer" + x.Key["result".Length..], x => x.Value));
            }
            row.GoldAnswerJson = answer.GetRawText();
        }
        history.Add(found.Id, row.Id, null, user.RequireUserId(), "task-changed", request);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        if (request.GoldAnswer is { ValueKind: System.Text.Json.JsonValueKind.Object }) await Prelabel.TrainingLabels.ForgetSoleClassAsync(db, found.Id, cancellationToken);
        if (request.Gold is { } isGold && isGold != row.IsGold)
        {
            if (isGold && row.GoldAnswerJson is null) throw new ValidationException("goldAnswer", "A gold task needs its answer.");
            // Turning a task into gold (or back) changes its cap, which is only safe while nobody holds a slot: the
            // condition is checked by the update itself, so a lease taken meanwhile makes it fail rather than overflow.
            var required = isGold ? int.MaxValue : found.Overlap;
            var changed = await db.Tasks.Where(t => t.Id == row.Id && t.Reserved == 0)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.IsGold, isGold).SetProperty(t => t.Required, required), cancellationToken);
            if (changed == 0) throw new ConflictException("The task already has annotators; its gold flag can no longer change.");
        }
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        row = await db.Tasks.AsNoTracking().FirstAsync(t => t.Id == task, cancellationToken);
        return TypedResults.Ok(TaskDto.From(row));
    }

    internal static async Task<ProgressDto> ProgressAsync(LabelingDbContext db, Guid labelingId, CancellationToken cancellationToken)
    {
        var tasks = db.Tasks.AsNoTracking().Where(t => t.LabelingProjectId == labelingId);
        var annotations = db.Annotations.AsNoTracking().Where(a => a.LabelingProjectId == labelingId);
        return new ProgressDto(
            await tasks.CountAsync(t => !t.IsGold, cancellationToken),
            await tasks.CountAsync(t => t.IsGold, cancellationToken),
            await tasks.CountAsync(t => !t.IsGold && t.Completed >= t.Required, cancellationToken),
            await annotations.CountAsync(a => a.Status == AnnotationStatus.Submitted || a.Status == AnnotationStatus.Accepted, cancellationToken),
            await annotations.CountAsync(a => a.Status == AnnotationStatus.Skipped, cancellationToken),
            await annotations.CountAsync(a => a.Status == AnnotationStatus.Submitted && a.ReviewState == ReviewState.Pending, cancellationToken));
    }
}
