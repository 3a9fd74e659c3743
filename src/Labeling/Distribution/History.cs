using System.Text.Json;
using Cube.Labeling.Data;
using Cube.Labeling.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Distribution;

/// <summary>Appends to the labeling history in the caller's unit of work, so a change and its record commit together.</summary>
public sealed class History(LabelingDbContext db, [FromKeyedServices(LabelingClock.Key)] TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public void Add(Guid projectId, Guid? taskId, Guid? annotationId, Guid actorId, string action, object? detail = null) =>
        db.History.Add(new HistoryEntry
        {
            LabelingProjectId = projectId, TaskId = taskId, AnnotationId = annotationId, ActorId = actorId, Action = action,
            DetailJson = detail is null ? null : JsonSerializer.Serialize(detail, Json), At = time.GetUtcNow(),
        });
}
