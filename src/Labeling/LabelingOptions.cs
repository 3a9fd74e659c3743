using System.ComponentModel.DataAnnotations;

namespace Cube.Labeling;

/// <summary>Labeling limits (section <c>Cube:Labeling</c>).</summary>
public sealed class LabelingOptions
{
    public const string SectionName = "Cube:Labeling";

    /// <summary>Largest file (or zip) accepted by a task import; larger uploads are refused with 413.</summary>
    [Range(1, long.MaxValue)]
    public long MaxImportBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Most tasks one import may add.</summary>
    [Range(1, 1_000_000)]
    public int MaxImportTasks { get; set; } = 100_000;

    /// <summary>Most uncompressed bytes read out of an imported zip, all entries together.</summary>
    [Range(1, long.MaxValue)]
    public long MaxImportUnzippedBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Most entries an imported zip may hold.</summary>
    [Range(1, 10_000_000)]
    public int MaxImportZipEntries { get; set; } = 200_000;

    /// <summary>Where external pre-label model endpoints may be (section <c>Cube:Labeling:ModelEndpoints</c>).</summary>
    public ModelEndpointOptions ModelEndpoints { get; set; } = new();
}

/// <summary>
/// External model endpoints are refused on loopback, private, link-local and other internal addresses (the guard
/// every user-given URL goes through) unless allow-listed here.
/// </summary>
public sealed class ModelEndpointOptions : Cube.Core.Net.OutboundAllowList
{
    public const string SectionName = LabelingOptions.SectionName + ":ModelEndpoints";
}
