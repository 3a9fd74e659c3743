using Cube.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace Cube.Features.Data;

/// <summary>A named feature pipeline of a project; its spec is versioned in <see cref="PipelineVersion"/>.</summary>
public sealed class FeaturePipelineEntity
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public Guid ProjectId { get; set; }
    public string Name { get; set; } = "";
    public int LatestVersion { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>Bumped on every new version; concurrent updates retry on conflict.</summary>
    public long RowVersion { get; set; }
}

/// <summary>One immutable version of a pipeline spec (normalised JSON).</summary>
public sealed class PipelineVersion
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public Guid PipelineId { get; set; }
    public int Number { get; set; }
    public string SpecJson { get; set; } = "";
    public Guid AuthorId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>The fitted state learnt by a run of a pipeline version, and the dataset version it wrote.</summary>
public sealed class FittedStateEntity
{
    public Guid Id { get; set; } = Guid.NewGuid();
    public Guid PipelineId { get; set; }
    public Guid PipelineVersionId { get; set; }
    public Guid? RunId { get; set; }
    public string StateJson { get; set; } = "";
    public Guid? OutputVersionId { get; set; }
    public long OutputRows { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

public abstract class FeaturesDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<FeaturePipelineEntity> Pipelines => Set<FeaturePipelineEntity>();
    public DbSet<PipelineVersion> PipelineVersions => Set<PipelineVersion>();
    public DbSet<FittedStateEntity> FittedStates => Set<FittedStateEntity>();
    public DbSet<ScheduleEntity> Schedules => Set<ScheduleEntity>();
    public DbSet<ScheduleFire> ScheduleFires => Set<ScheduleFire>();
    public DbSet<ScheduleBackfill> ScheduleBackfills => Set<ScheduleBackfill>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<FeaturePipelineEntity>(e =>
        {
            e.ToTable("features_pipelines");
            e.Property(p => p.Name).HasMaxLength(128);
            e.Property(p => p.RowVersion).IsConcurrencyToken();
            e.HasIndex(p => new { p.ProjectId, p.Name }).IsUnique();
        });
        modelBuilder.Entity<PipelineVersion>(e =>
        {
            e.ToTable("features_pipeline_versions");
            e.HasIndex(v => new { v.PipelineId, v.Number }).IsUnique();
            e.HasOne<FeaturePipelineEntity>().WithMany().HasForeignKey(v => v.PipelineId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<FittedStateEntity>(e =>
        {
            e.ToTable("features_fitted_states");
            e.HasIndex(s => new { s.PipelineId, s.CreatedAt });
            e.HasOne<FeaturePipelineEntity>().WithMany().HasForeignKey(s => s.PipelineId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<PipelineVersion>().WithMany().HasForeignKey(s => s.PipelineVersionId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ScheduleEntity>(e =>
        {
            e.ToTable("features_schedules");
            e.Property(s => s.Name).HasMaxLength(128);
            e.Property(s => s.Cron).HasMaxLength(128);
            e.Property(s => s.TimeZone).HasMaxLength(64);
            e.Property(s => s.OutputDataset).HasMaxLength(256);
            e.Property(s => s.LastOutcome).HasMaxLength(512);
            e.Property(s => s.RowVersion).IsConcurrencyToken();
            e.HasIndex(s => new { s.ProjectId, s.Name }).IsUnique();
            e.HasIndex(s => s.PipelineId);
            e.HasOne<FeaturePipelineEntity>().WithMany().HasForeignKey(s => s.PipelineId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ScheduleFire>(e =>
        {
            e.ToTable("features_schedule_fires");
            e.Property(f => f.Trigger).HasConversion<string>().HasMaxLength(16);
            e.Property(f => f.Outcome).HasConversion<string>().HasMaxLength(24);
            e.Property(f => f.RunState).HasConversion<string>().HasMaxLength(16);
            e.Property(f => f.Detail).HasMaxLength(2000);
            e.Property(f => f.InputsKey).HasMaxLength(4000);
            e.Property(f => f.DedupeKey).HasMaxLength(64);
            e.HasIndex(f => new { f.ScheduleId, f.FiredAt });
            e.HasIndex(f => new { f.ScheduleId, f.Outcome });
            e.HasIndex(f => new { f.ScheduleId, f.DedupeKey }).IsUnique();
            e.HasIndex(f => f.BackfillId);
            e.HasOne<ScheduleEntity>().WithMany().HasForeignKey(f => f.ScheduleId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ScheduleBackfill>(e =>
        {
            e.ToTable("features_schedule_backfills");
            e.HasIndex(b => new { b.ScheduleId, b.CreatedAt });
            e.HasOne<ScheduleEntity>().WithMany().HasForeignKey(b => b.ScheduleId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}

public sealed class SqliteFeaturesDbContext(DbContextOptions<SqliteFeaturesDbContext> options) : FeaturesDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        ModuleDatabase.ApplySqliteConventions(configurationBuilder);
}

public sealed class PostgresFeaturesDbContext(DbContextOptions<PostgresFeaturesDbContext> options) : FeaturesDbContext(options);

internal sealed class SqliteFeaturesDesignFactory : DesignTimeFactory<SqliteFeaturesDbContext>
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
    protected override string Module => "features";
}

internal sealed class PostgresFeaturesDesignFactory : DesignTimeFactory<PostgresFeaturesDbContext>
{
    protected override DatabaseProvider Provider => DatabaseProvider.PostgreSql;
    protected override string Module => "features";
}
