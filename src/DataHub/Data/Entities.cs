namespace Cube.DataHub.Data;

public enum DatasetKind
{
    Tabular,
    Image,
    Text,
    Mixed,
}

/// <summary>A named collection of immutable versions inside a project.</summary>
public sealed class Dataset
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProjectId { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public DatasetKind Kind { get; set; }
    public Guid OwnerId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public bool IsArchived { get; set; }
    /// <summary>Soft delete: hidden at once, blobs reclaimed by garbage collection later.</summary>
    public DateTimeOffset? DeletedAt { get; set; }
    public int LatestVersion { get; set; }
    /// <summary>Optimistic concurrency; exposed as the ETag.</summary>
    public long RowVersion { get; set; } = 1;
    public List<DatasetTag> Tags { get; set; } = [];
}

public sealed class DatasetTag
{
    public Guid DatasetId { get; set; }
    public required string Tag { get; set; }
}

/// <summary>
/// An immutable snapshot: its files are rows of <see cref="VersionFile"/> pointing at content-addressed blobs. It
/// becomes visible in the same transaction that writes its files, so a crash never shows half a version.
/// </summary>
public sealed class DatasetVersion
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid DatasetId { get; set; }
    /// <summary>1, 2, 3, … per dataset.</summary>
    public int Number { get; set; }
    public Guid? ParentId { get; set; }
    public string Message { get; set; } = "";
    public Guid AuthorId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public int FileCount { get; set; }
    public long TotalBytes { get; set; }
    /// <summary>upload, url, s3, pipeline, labeling, training.</summary>
    public string SourceKind { get; set; } = "upload";
    /// <summary>Where the content came from (URL, S3 prefix, run id), as JSON.</summary>
    public string? SourceJson { get; set; }
    public Guid? RunId { get; set; }
}

/// <summary>One path of a version's manifest.</summary>
public sealed class VersionFile
{
    public Guid VersionId { get; set; }
    public required string Path { get; set; }
    public required string Sha256 { get; set; }
    public long Size { get; set; }
    public string? ContentType { get; set; }
}

/// <summary>A tabular file of a version, converted to Parquet with its schema and statistics.</summary>
public sealed class VersionTable
{
    public Guid VersionId { get; set; }
    /// <summary>The source file's path in the version.</summary>
    public required string Path { get; set; }
    public required string ParquetSha256 { get; set; }
    public long ParquetSize { get; set; }
    public long RowCount { get; set; }
    public required string SchemaJson { get; set; }
    public required string StatisticsJson { get; set; }
}

/// <summary>An image file of a version with its decoded dimensions, for statistics and the image grid.</summary>
public sealed class VersionImage
{
    public Guid VersionId { get; set; }
    public required string Path { get; set; }
    public required string Sha256 { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }
    /// <summary>png, jpeg, gif, webp, bmp, ...</summary>
    public required string Format { get; set; }
}

/// <summary>A named pointer to a version (<c>gold</c>, <c>train-2026-11</c>); moving it is allowed, versions never change.</summary>
public sealed class VersionTag
{
    public Guid DatasetId { get; set; }
    public required string Name { get; set; }
    public Guid VersionId { get; set; }
    public Guid CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>Upstream dataset versions a version was made from (pipelines, labeling exports, training outputs).</summary>
public sealed class LineageEdge
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid UpstreamVersionId { get; set; }
    public Guid DownstreamVersionId { get; set; }
    /// <summary>pipeline, labeling, training, derived.</summary>
    public required string Kind { get; set; }
    public Guid? RunId { get; set; }
}

/// <summary>A content-addressed object known to the catalog: key <c>blobs/sha256/ab/cd/abcd…</c>.</summary>
public sealed class Blob
{
    public required string Sha256 { get; set; }
    public long Size { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public enum UploadSessionState
{
    Open,
    Committing,
    Committed,
    Aborted,
}

/// <summary>Files staged for the next version of a dataset; survives dropped connections and restarts.</summary>
public sealed class UploadSession
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid DatasetId { get; set; }
    public Guid CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public UploadSessionState State { get; set; }
    public Guid? RunId { get; set; }
}

/// <summary>
/// One path in an upload session. Whole-file uploads arrive complete; resumable ones grow chunk by chunk
/// (<see cref="ReceivedBytes"/> of <see cref="DeclaredSize"/>) and get their hash when the last chunk lands.
/// </summary>
public sealed class StagedFile
{
    public Guid SessionId { get; set; }
    public required string Path { get; set; }
    public long DeclaredSize { get; set; }
    public long ReceivedBytes { get; set; }
    public int ChunkCount { get; set; }
    public string? Sha256 { get; set; }
    /// <summary>True when the staged file marks a path for deletion from the parent version.</summary>
    public bool Delete { get; set; }
    /// <summary>Expand this zip archive into the version at commit.</summary>
    public bool Extract { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public bool IsComplete => Delete || Sha256 is not null;
}
