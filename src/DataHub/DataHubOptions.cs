using System.ComponentModel.DataAnnotations;

namespace Cube.DataHub;

/// <summary>DataHub limits and housekeeping (section <c>Cube:DataHub</c>).</summary>
public sealed class DataHubOptions
{
    public const string SectionName = "Cube:DataHub";

    /// <summary>Largest single file accepted by upload or import.</summary>
    [Range(1, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 50L * 1024 * 1024 * 1024;

    /// <summary>Most files one version may add through one upload session (zip entries included).</summary>
    [Range(1, 10_000_000)]
    public int MaxFilesPerCommit { get; set; } = 200_000;

    /// <summary>How long an idle upload session can be resumed.</summary>
    public TimeSpan UploadSessionLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Unreferenced blobs younger than this are kept: a commit may be about to reference them.</summary>
    public TimeSpan GarbageGracePeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Convert CSV, TSV, JSON Lines, Parquet and Arrow files into tables at commit.</summary>
    public bool ConvertTables { get; set; } = true;

    /// <summary>Limits for zip archives expanded at commit.</summary>
    public Ingest.ZipLimits Zip { get; set; } = new();

    /// <summary>Which networks URL and S3 imports may reach.</summary>
    public Ingest.ImportOptions Import { get; set; } = new();
}
