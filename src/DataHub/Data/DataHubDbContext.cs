using Cube.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace Cube.DataHub.Data;

public abstract class DataHubDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<DatasetTag> DatasetTags => Set<DatasetTag>();
    public DbSet<DatasetVersion> Versions => Set<DatasetVersion>();
    public DbSet<VersionFile> VersionFiles => Set<VersionFile>();
    public DbSet<VersionTable> VersionTables => Set<VersionTable>();
    public DbSet<VersionTag> VersionTags => Set<VersionTag>();
    public DbSet<VersionImage> VersionImages => Set<VersionImage>();
    public DbSet<LineageEdge> LineageEdges => Set<LineageEdge>();
    public DbSet<Blob> Blobs => Set<Blob>();
    public DbSet<UploadSession> UploadSessions => Set<UploadSession>();
    public DbSet<StagedFile> StagedFiles => Set<StagedFile>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Dataset>(e =>
        {
            e.ToTable("datahub_datasets");
            e.Property(d => d.Name).HasMaxLength(128);
            e.Property(d => d.Description).HasMaxLength(4000);
            e.Property(d => d.Kind).HasConversion<string>().HasMaxLength(16);
            e.Property(d => d.RowVersion).IsConcurrencyToken();
            // Unique among live datasets only would need a filtered index; deleted datasets keep their name reserved
            // until garbage collection purges them, which keeps lineage references unambiguous.
            e.HasIndex(d => new { d.ProjectId, d.Name }).IsUnique();
            e.HasMany(d => d.Tags).WithOne().HasForeignKey(t => t.DatasetId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<DatasetTag>(e =>
        {
            e.ToTable("datahub_dataset_tags");
            e.HasKey(t => new { t.DatasetId, t.Tag });
            e.Property(t => t.Tag).HasMaxLength(64);
            e.HasIndex(t => t.Tag);
        });
        modelBuilder.Entity<DatasetVersion>(e =>
        {
            e.ToTable("datahub_versions");
            e.HasIndex(v => new { v.DatasetId, v.Number }).IsUnique();
            e.Property(v => v.Message).HasMaxLength(4000);
            e.Property(v => v.SourceKind).HasMaxLength(32);
            e.HasOne<Dataset>().WithMany().HasForeignKey(v => v.DatasetId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<VersionFile>(e =>
        {
            e.ToTable("datahub_version_files");
            e.HasKey(f => new { f.VersionId, f.Path });
            e.Property(f => f.Path).HasMaxLength(1024);
            e.Property(f => f.Sha256).HasMaxLength(64);
            e.Property(f => f.ContentType).HasMaxLength(128);
            e.HasIndex(f => f.Sha256);
            e.HasOne<DatasetVersion>().WithMany().HasForeignKey(f => f.VersionId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<VersionTable>(e =>
        {
            e.ToTable("datahub_version_tables");
            e.HasKey(t => new { t.VersionId, t.Path });
            e.Property(t => t.Path).HasMaxLength(1024);
            e.Property(t => t.ParquetSha256).HasMaxLength(64);
            e.HasIndex(t => t.ParquetSha256);
            e.HasOne<DatasetVersion>().WithMany().HasForeignKey(t => t.VersionId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<VersionImage>(e =>
        {
            e.ToTable("datahub_version_images");
            e.HasKey(i => new { i.VersionId, i.Path });
            e.Property(i => i.Path).HasMaxLength(1024);
            e.Property(i => i.Sha256).HasMaxLength(64);
            e.Property(i => i.Format).HasMaxLength(16);
            e.HasOne<DatasetVersion>().WithMany().HasForeignKey(i => i.VersionId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<VersionTag>(e =>
        {
            e.ToTable("datahub_version_tags");
            e.HasKey(t => new { t.DatasetId, t.Name });
            e.Property(t => t.Name).HasMaxLength(64);
            e.HasOne<DatasetVersion>().WithMany().HasForeignKey(t => t.VersionId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<LineageEdge>(e =>
        {
            e.ToTable("datahub_lineage");
            e.Property(l => l.Kind).HasMaxLength(32);
            e.HasIndex(l => l.UpstreamVersionId);
            e.HasIndex(l => l.DownstreamVersionId);
        });
        modelBuilder.Entity<Blob>(e =>
        {
            e.ToTable("datahub_blobs");
            e.HasKey(b => b.Sha256);
            e.Property(b => b.Sha256).HasMaxLength(64);
        });
        modelBuilder.Entity<UploadSession>(e =>
        {
            e.ToTable("datahub_upload_sessions");
            e.Property(s => s.State).HasConversion<string>().HasMaxLength(16);
            e.HasIndex(s => s.DatasetId);
        });
        modelBuilder.Entity<StagedFile>(e =>
        {
            e.ToTable("datahub_staged_files");
            e.HasKey(f => new { f.SessionId, f.Path });
            e.Property(f => f.Path).HasMaxLength(1024);
            e.Property(f => f.Sha256).HasMaxLength(64);
            e.HasOne<UploadSession>().WithMany().HasForeignKey(f => f.SessionId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}

public sealed class SqliteDataHubDbContext(DbContextOptions<SqliteDataHubDbContext> options) : DataHubDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        ModuleDatabase.ApplySqliteConventions(configurationBuilder);
}

public sealed class PostgresDataHubDbContext(DbContextOptions<PostgresDataHubDbContext> options) : DataHubDbContext(options);

internal sealed class SqliteDataHubDesignFactory : DesignTimeFactory<SqliteDataHubDbContext>
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
    protected override string Module => "datahub";
}

internal sealed class PostgresDataHubDesignFactory : DesignTimeFactory<PostgresDataHubDbContext>
{
    protected override DatabaseProvider Provider => DatabaseProvider.PostgreSql;
    protected override string Module => "datahub";
}
