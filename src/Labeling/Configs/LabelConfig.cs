using System.Text.Json.Serialization;

namespace Cube.Labeling.Configs;

/// <summary>What annotators produce for a task.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LabelingKind>))]
public enum LabelingKind
{
    ImageClassification,
    BoundingBoxes,
    Polygons,
    Keypoints,
    TextClassification,
    NamedEntities,
}

/// <summary>One label an annotator can choose: its name, display colour (<c>#rrggbb</c>) and optional one-key shortcut.</summary>
public sealed record LabelDefinition(string Name, string? Color = null, string? Hotkey = null);

/// <summary>
/// A project's label configuration. <see cref="Multiple"/> applies to classification (multi-label);
/// <see cref="AllowOverlap"/> to named entities (whether spans may overlap); <see cref="MinBoxSize"/> to boxes
/// (smallest width and height in pixels); <see cref="MinPolygonPoints"/> and <see cref="MaxPolygonPoints"/> to polygons;
/// keypoint labels name the points, each of which may appear at most once per result.
/// </summary>
public sealed record LabelConfig(
    LabelingKind Kind,
    IReadOnlyList<LabelDefinition> Labels,
    bool Multiple = false,
    bool AllowOverlap = false,
    double MinBoxSize = 1,
    int MinPolygonPoints = 3,
    int MaxPolygonPoints = 1000)
{
    public bool IsImage => Kind is LabelingKind.ImageClassification or LabelingKind.BoundingBoxes or LabelingKind.Polygons or LabelingKind.Keypoints;
    public bool IsClassification => Kind is LabelingKind.ImageClassification or LabelingKind.TextClassification;
}
