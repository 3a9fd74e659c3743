using Cube.Core.Errors;
using Cube.Core.Identity;
using Cube.Labeling.Data;
using Cube.Labeling.Projects;
using Microsoft.AspNetCore.Http;

namespace Cube.Labeling.Apis;

internal static class ApiHelpers
{
    /// <summary>The labeling project named by the route, inside the route's Cube project (already authorised by policy).</summary>
    public static async Task<(Core.Projects.Project Project, LabelingProject Labeling)> ResolveAsync(HttpContext http, LabelingProjects projects, Guid id, bool tracking = false)
    {
        var project = await http.GetProjectAsync();
        return (project, await projects.FindAsync(project.Id, id, http.RequestAborted, tracking));
    }

    /// <summary>The caller's role in the route's project; admins count as managers.</summary>
    public static async Task<Core.Projects.ProjectRole> RoleAsync(HttpContext http, ProjectAccess access)
    {
        var info = await access.RequireAsync(http, Core.Projects.ProjectRole.Annotator);
        return info.IsAdmin ? Core.Projects.ProjectRole.Manager : info.Role!.Value;
    }

    public static T ParseEnum<T>(string value, string field) where T : struct, Enum =>
        Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(value, out _)
            ? parsed
            : throw new ValidationException(field, $"'{value}' is not one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}.");

    /// <summary>The version named by If-Match (<c>W/"3"</c> or <c>"3"</c>); null when the header is absent or <c>*</c>.</summary>
    public static long? IfMatchVersion(HttpContext http)
    {
        var header = http.Request.Headers.IfMatch.ToString().Trim();
        if (header.Length == 0 || header == "*") return null;
        var tag = header.StartsWith("W/", StringComparison.Ordinal) ? header[2..] : header;
        if (tag.Length >= 3 && tag[0] == '"' && tag[^1] == '"' && long.TryParse(tag[1..^1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version))
            return version;
        throw new BadRequestException($"If-Match '{header}' is not an ETag this server issued.");
    }

    public static void Range(double? value, string field, double min, double max)
    {
        if (value is { } v && (double.IsNaN(v) || v < min || v > max)) throw new ValidationException(field, $"{field} must be between {min} and {max}.");
    }
}
