using Cube.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace Cube.Knowledge.Data;

public abstract class KnowledgeDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<KnowledgeBase> KnowledgeBases => Set<KnowledgeBase>();
    public DbSet<KnowledgeDocument> Documents => Set<KnowledgeDocument>();
    public DbSet<KnowledgeChunk> Chunks => Set<KnowledgeChunk>();
    public DbSet<ChatSession> ChatSessions => Set<ChatSession>();
    public DbSet<ChatSessionMessage> ChatMessages => Set<ChatSessionMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<KnowledgeBase>(e =>
        {
            e.ToTable("knowledge_bases");
            e.Property(k => k.Name).HasMaxLength(128);
            e.Property(k => k.Description).HasMaxLength(4000);
            e.Property(k => k.EmbeddingModel).HasMaxLength(256);
            e.Property(k => k.AccessRulesJson).HasMaxLength(8000);
            e.Ignore(k => k.HiddenTags);
            e.HasIndex(k => new { k.ProjectId, k.Name }).IsUnique();
        });
        modelBuilder.Entity<KnowledgeDocument>(e =>
        {
            e.ToTable("knowledge_documents");
            e.Property(d => d.Name).HasMaxLength(1024);
            e.Property(d => d.ContentType).HasMaxLength(128);
            e.Property(d => d.Sha256).HasMaxLength(64);
            e.Property(d => d.IndexedSha256).HasMaxLength(64);
            e.Property(d => d.StorageKey).HasMaxLength(512);
            e.Property(d => d.SourceKind).HasMaxLength(16);
            e.Property(d => d.Title).HasMaxLength(1024);
            e.Property(d => d.Tags).HasMaxLength(2048);
            e.Property(d => d.State).HasConversion<string>().HasMaxLength(16);
            e.Property(d => d.Error).HasMaxLength(4000);
            e.Ignore(d => d.TagList);
            e.HasIndex(d => new { d.KnowledgeBaseId, d.Name }).IsUnique();
            e.HasOne<KnowledgeBase>().WithMany().HasForeignKey(d => d.KnowledgeBaseId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<KnowledgeChunk>(e =>
        {
            e.ToTable("knowledge_chunks");
            e.Property(c => c.HeadingPath).HasMaxLength(2048);
            e.HasIndex(c => new { c.DocumentId, c.Ordinal });
            e.HasIndex(c => c.KnowledgeBaseId);
            e.HasOne<KnowledgeDocument>().WithMany().HasForeignKey(c => c.DocumentId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ChatSession>(e =>
        {
            e.ToTable("knowledge_chat_sessions");
            e.Property(s => s.Title).HasMaxLength(200);
            e.HasIndex(s => new { s.KnowledgeBaseId, s.OwnerId, s.UpdatedAt });
            e.HasOne<KnowledgeBase>().WithMany().HasForeignKey(s => s.KnowledgeBaseId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ChatSessionMessage>(e =>
        {
            e.ToTable("knowledge_chat_messages");
            e.Property(m => m.Role).HasMaxLength(16);
            e.HasIndex(m => new { m.SessionId, m.Ordinal }).IsUnique();
            e.HasOne<ChatSession>().WithMany().HasForeignKey(m => m.SessionId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}

public sealed class SqliteKnowledgeDbContext(DbContextOptions<SqliteKnowledgeDbContext> options) : KnowledgeDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        ModuleDatabase.ApplySqliteConventions(configurationBuilder);
}

public sealed class PostgresKnowledgeDbContext(DbContextOptions<PostgresKnowledgeDbContext> options) : KnowledgeDbContext(options);

internal sealed class SqliteKnowledgeDesignFactory : DesignTimeFactory<SqliteKnowledgeDbContext>
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
    protected override string Module => "knowledge";
}

internal sealed class PostgresKnowledgeDesignFactory : DesignTimeFactory<PostgresKnowledgeDbContext>
{
    protected override DatabaseProvider Provider => DatabaseProvider.PostgreSql;
    protected override string Module => "knowledge";
}
