namespace Cube.Knowledge.Data;

/// <summary>A searchable collection of documents inside a project.</summary>
public sealed class KnowledgeBase
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ProjectId { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    /// <summary>The embedder whose vectors the index holds; vectors of different models are not comparable.</summary>
    public required string EmbeddingModel { get; set; }
    /// <summary>Document access rules as JSON <c>{"tag": "role"}</c>: a document with the tag is seen only from that project role up.</summary>
    public string? AccessRulesJson { get; set; }
    /// <summary>Not stored: the tags whose documents the current caller may not see, set when an API resolves the knowledge base.</summary>
    public IReadOnlySet<string> HiddenTags { get; set; } = new HashSet<string>();
    public Guid CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public enum DocumentState
{
    Queued,
    Processing,
    Ready,
    Failed,
}

/// <summary>One document of a knowledge base, uploaded or taken from a DataHub dataset version.</summary>
public sealed class KnowledgeDocument
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid KnowledgeBaseId { get; set; }
    /// <summary>File name or dataset path; unique in the knowledge base, so uploading it again replaces it.</summary>
    public required string Name { get; set; }
    public string? ContentType { get; set; }
    public required string Sha256 { get; set; }
    public long SizeBytes { get; set; }
    /// <summary>Object-store key of the content.</summary>
    public required string StorageKey { get; set; }
    /// <summary><c>upload</c> or <c>dataset</c>.</summary>
    public required string SourceKind { get; set; }
    public Guid? DatasetId { get; set; }
    public int? DatasetVersion { get; set; }
    public string? Title { get; set; }
    /// <summary>Access and filter tags, comma-separated.</summary>
    public string Tags { get; set; } = "";
    public DocumentState State { get; set; } = DocumentState.Queued;
    public string? Error { get; set; }
    public int ChunkCount { get; set; }
    public int? Pages { get; set; }
    /// <summary>The content hash last indexed: a document whose content is unchanged is not processed again.</summary>
    public string? IndexedSha256 { get; set; }
    public Guid? RunId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public IReadOnlyList<string> TagList => Tags.Length == 0 ? [] : Tags.Split(',');
}

/// <summary>A chunk's metadata and text, mirrored from the index for citations and re-indexing.</summary>
public sealed class KnowledgeChunk
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid DocumentId { get; set; }
    public Guid KnowledgeBaseId { get; set; }
    public int Ordinal { get; set; }
    public required string HeadingPath { get; set; }
    public int? Page { get; set; }
    public int StartOffset { get; set; }
    public int EndOffset { get; set; }
    public int TokenCount { get; set; }
    public required string Text { get; set; }
}

/// <summary>A conversation of one user with one knowledge base; private to its owner.</summary>
public sealed class ChatSession
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid KnowledgeBaseId { get; set; }
    public Guid OwnerId { get; set; }
    /// <summary>Given at creation, or the start of the first question.</summary>
    public string? Title { get; set; }
    public int MessageCount { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One turn of a chat session. Assistant turns keep the citations they were answered with.</summary>
public sealed class ChatSessionMessage
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid SessionId { get; set; }
    /// <summary>Position in the session, from 0; unique per session, so two answers racing for one slot cannot interleave.</summary>
    public int Ordinal { get; set; }
    /// <summary><c>user</c> or <c>assistant</c>.</summary>
    public required string Role { get; set; }
    public required string Content { get; set; }
    public string? CitationsJson { get; set; }
    public bool Extractive { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
