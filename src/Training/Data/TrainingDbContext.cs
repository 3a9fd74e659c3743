using Cube.Core.Data;
using Microsoft.EntityFrameworkCore;

namespace Cube.Training.Data;

public abstract class TrainingDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<TrainingJob> Jobs => Set<TrainingJob>();
    public DbSet<JobParam> Params => Set<JobParam>();
    public DbSet<JobInput> Inputs => Set<JobInput>();
    public DbSet<MetricPoint> Metrics => Set<MetricPoint>();
    public DbSet<LogLine> Logs => Set<LogLine>();
    public DbSet<JobArtifact> Artifacts => Set<JobArtifact>();
    public DbSet<RegisteredModel> Models => Set<RegisteredModel>();
    public DbSet<ModelVersion> ModelVersions => Set<ModelVersion>();
    public DbSet<ModelVersionLineage> ModelLineage => Set<ModelVersionLineage>();
    public DbSet<ModelAlias> ModelAliases => Set<ModelAlias>();
    public DbSet<GpuQuota> Quotas => Set<GpuQuota>();
    public DbSet<Study> Studies => Set<Study>();
    public DbSet<StudyTrial> Trials => Set<StudyTrial>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<TrainingJob>(e =>
        {
            e.ToTable("training_jobs");
            e.Property(j => j.Name).HasMaxLength(64);
            e.Property(j => j.Experiment).HasMaxLength(128);
            e.Property(j => j.Distribution).HasMaxLength(16);
            e.Property(j => j.Framework).HasMaxLength(16);
            e.Property(j => j.State).HasConversion<string>().HasMaxLength(16);
            e.Property(j => j.Message).HasMaxLength(2000);
            e.Property(j => j.TrackingTokenHash).HasMaxLength(64);
            e.Property(j => j.Error).HasMaxLength(4000);
            e.HasIndex(j => new { j.ProjectId, j.Id });
            e.HasIndex(j => new { j.ProjectId, j.Experiment });
            e.HasIndex(j => j.RunId);
            e.HasIndex(j => new { j.ProjectId, j.State });
            e.HasIndex(j => j.StudyId);
        });
        modelBuilder.Entity<Study>(e =>
        {
            e.ToTable("training_studies");
            e.Property(s => s.Name).HasMaxLength(64);
            e.Property(s => s.Experiment).HasMaxLength(128);
            e.Property(s => s.Strategy).HasMaxLength(16);
            e.Property(s => s.Metric).HasMaxLength(128);
            e.Property(s => s.Goal).HasMaxLength(16);
            e.Property(s => s.State).HasConversion<string>().HasMaxLength(16);
            e.Property(s => s.Message).HasMaxLength(2000);
            e.Property(s => s.LeaseOwner).HasMaxLength(256);
            e.HasIndex(s => new { s.ProjectId, s.Id });
            e.HasIndex(s => s.State);
        });
        modelBuilder.Entity<StudyTrial>(e =>
        {
            e.ToTable("training_study_trials");
            e.Property(t => t.State).HasConversion<string>().HasMaxLength(16);
            e.Property(t => t.ParamsJson).HasMaxLength(16000);
            e.Property(t => t.StopReason).HasMaxLength(2000);
            e.HasIndex(t => new { t.StudyId, t.Number }).IsUnique();
            e.HasIndex(t => t.JobId);
            e.HasOne<Study>().WithMany().HasForeignKey(t => t.StudyId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<GpuQuota>(e =>
        {
            e.ToTable("training_gpu_quotas");
            e.HasKey(q => q.ProjectId);
        });
        modelBuilder.Entity<JobParam>(e =>
        {
            e.ToTable("training_job_params");
            e.HasKey(p => new { p.JobId, p.Key });
            e.Property(p => p.Key).HasMaxLength(128);
            e.Property(p => p.Value).HasMaxLength(4000);
            e.HasOne<TrainingJob>().WithMany().HasForeignKey(p => p.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<JobInput>(e =>
        {
            e.ToTable("training_job_inputs");
            e.HasKey(i => new { i.JobId, i.Name });
            e.Property(i => i.Name).HasMaxLength(128);
            e.Property(i => i.Dataset).HasMaxLength(128);
            e.HasIndex(i => i.VersionId);
            e.HasOne<TrainingJob>().WithMany().HasForeignKey(i => i.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<MetricPoint>(e =>
        {
            e.ToTable("training_metrics");
            e.Property(m => m.Name).HasMaxLength(128);
            e.HasIndex(m => new { m.JobId, m.Name, m.Step });
            e.HasOne<TrainingJob>().WithMany().HasForeignKey(m => m.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<LogLine>(e =>
        {
            e.ToTable("training_logs");
            e.HasKey(l => new { l.JobId, l.Sequence });
            e.Property(l => l.Source).HasMaxLength(128);
            e.HasOne<TrainingJob>().WithMany().HasForeignKey(l => l.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<JobArtifact>(e =>
        {
            e.ToTable("training_artifacts");
            e.HasKey(a => new { a.JobId, a.Path });
            e.Property(a => a.Path).HasMaxLength(1024);
            e.Property(a => a.ObjectKey).HasMaxLength(1200);
            e.Property(a => a.Sha256).HasMaxLength(64);
            e.HasOne<TrainingJob>().WithMany().HasForeignKey(a => a.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<RegisteredModel>(e =>
        {
            e.ToTable("training_models");
            e.Property(m => m.Name).HasMaxLength(128);
            e.Property(m => m.Description).HasMaxLength(4000);
            e.HasIndex(m => new { m.ProjectId, m.Name }).IsUnique();
        });
        modelBuilder.Entity<ModelVersion>(e =>
        {
            e.ToTable("training_model_versions");
            e.HasIndex(v => new { v.ModelId, v.Number }).IsUnique();
            e.HasIndex(v => v.JobId);
            e.Property(v => v.ArtifactPath).HasMaxLength(1024);
            e.Property(v => v.ObjectKey).HasMaxLength(1200);
            e.Property(v => v.Sha256).HasMaxLength(64);
            e.Property(v => v.Flavor).HasMaxLength(32);
            e.Property(v => v.Description).HasMaxLength(4000);
            e.HasOne<RegisteredModel>().WithMany().HasForeignKey(v => v.ModelId).OnDelete(DeleteBehavior.Cascade);
            // A job with registered models cannot be deleted from under them.
            e.HasOne<TrainingJob>().WithMany().HasForeignKey(v => v.JobId).OnDelete(DeleteBehavior.Restrict);
        });
        modelBuilder.Entity<ModelVersionLineage>(e =>
        {
            e.ToTable("training_model_lineage");
            e.HasKey(l => new { l.ModelVersionId, l.DatasetVersionId });
            e.Property(l => l.Dataset).HasMaxLength(128);
            e.HasIndex(l => l.DatasetVersionId);
            e.HasOne<ModelVersion>().WithMany().HasForeignKey(l => l.ModelVersionId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<ModelAlias>(e =>
        {
            e.ToTable("training_model_aliases");
            e.HasKey(a => new { a.ModelId, a.Alias });
            e.Property(a => a.Alias).HasMaxLength(64);
            e.HasOne<RegisteredModel>().WithMany().HasForeignKey(a => a.ModelId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<ModelVersion>().WithMany().HasForeignKey(a => a.VersionId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}

public sealed class SqliteTrainingDbContext(DbContextOptions<SqliteTrainingDbContext> options) : TrainingDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        ModuleDatabase.ApplySqliteConventions(configurationBuilder);
}

public sealed class PostgresTrainingDbContext(DbContextOptions<PostgresTrainingDbContext> options) : TrainingDbContext(options);

internal sealed class SqliteTrainingDesignFactory : DesignTimeFactory<SqliteTrainingDbContext>
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
    protected override string Module => "training";
}

internal sealed class PostgresTrainingDesignFactory : DesignTimeFactory<PostgresTrainingDbContext>
{
    protected override DatabaseProvider Provider => DatabaseProvider.PostgreSql;
    protected override string Module => "training";
}
