using Cube.Core.Data;
using Cube.Core.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace Cube.Labeling.Data;

public abstract class LabelingDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<LabelingProject> Projects => Set<LabelingProject>();
    public DbSet<LabelingTask> Tasks => Set<LabelingTask>();
    public DbSet<Assignment> Assignments => Set<Assignment>();
    public DbSet<Annotation> Annotations => Set<Annotation>();
    public DbSet<Review> Reviews => Set<Review>();
    public DbSet<HistoryEntry> History => Set<HistoryEntry>();
    public DbSet<Prediction> Predictions => Set<Prediction>();
    public DbSet<ModelEndpoint> ModelEndpoints => Set<ModelEndpoint>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        // Core's table, mapped here so webhook events commit in the same transaction as the change they report.
        WebhookEvent.Map(modelBuilder, owned: false);
        modelBuilder.Entity<LabelingProject>(e =>
        {
            e.ToTable("labeling_projects", t =>
            {
                t.HasCheckConstraint("ck_labeling_projects_overlap", "\"Overlap\" >= 1");
                t.HasCheckConstraint("ck_labeling_projects_rates", "\"GoldRate\" >= 0 AND \"GoldRate\" <= 1 AND \"ReviewRate\" >= 0 AND \"ReviewRate\" <= 1");
            });
            e.Property(p => p.Name).HasMaxLength(128);
            e.Property(p => p.Instructions).HasMaxLength(20_000);
            e.Property(p => p.Ordering).HasConversion<string>().HasMaxLength(16);
            e.Property(p => p.State).HasConversion<string>().HasMaxLength(16);
            e.Property(p => p.SourceTable).HasMaxLength(1024);
            e.Property(p => p.SourceColumn).HasMaxLength(256);
            e.Property(p => p.PrelabelSoleClass).HasMaxLength(200);
            e.Property(p => p.Version).IsConcurrencyToken();
            e.HasIndex(p => new { p.ProjectId, p.Name }).IsUnique();
        });
        modelBuilder.Entity<LabelingTask>(e =>
        {
            // The overlap guarantee lives here: no task ever holds more slots than it requires, nor more completed
            // annotations than slots, whatever the server processes do.
            e.ToTable("labeling_tasks", t =>
            {
                t.HasCheckConstraint("ck_labeling_tasks_reserved", "\"Reserved\" >= 0 AND \"Reserved\" <= \"Required\"");
                t.HasCheckConstraint("ck_labeling_tasks_completed", "\"Completed\" >= 0 AND \"Completed\" <= \"Reserved\"");
            });
            e.HasOne<LabelingProject>().WithMany().HasForeignKey(t => t.LabelingProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(t => new { t.LabelingProjectId, t.Ordinal }).IsUnique();
            // Next-task walks one of these in the project's order and stops at the first task the annotator has not had.
            // Only tasks with a free slot are in them (the filter matches the query's "Reserved" < "Required"), so the
            // walk never passes over full or finished tasks and its cost does not grow with the project's progress.
            const string open = "\"Reserved\" < \"Required\"";
            e.HasIndex(t => new { t.LabelingProjectId, t.IsGold, t.Ordinal }).HasFilter(open).HasDatabaseName("ix_labeling_tasks_open_sequential");
            e.HasIndex(t => new { t.LabelingProjectId, t.IsGold, t.Priority, t.Ordinal }).IsDescending(false, false, true, false).HasFilter(open)
                .HasDatabaseName("ix_labeling_tasks_open_priority");
            e.HasIndex(t => new { t.LabelingProjectId, t.IsGold, t.RandomKey, t.Ordinal }).HasFilter(open).HasDatabaseName("ix_labeling_tasks_open_random");
            // "Is any task left incomplete?", asked whenever a task completes, looks only at incomplete tasks.
            e.HasIndex(t => new { t.LabelingProjectId, t.IsGold }).HasFilter("\"Completed\" < \"Required\"").HasDatabaseName("ix_labeling_tasks_incomplete");
        });
        modelBuilder.Entity<Assignment>(e =>
        {
            e.ToTable("labeling_assignments");
            e.Property(a => a.Status).HasConversion<string>().HasMaxLength(16);
            e.HasOne<LabelingTask>().WithMany().HasForeignKey(a => a.TaskId).OnDelete(DeleteBehavior.Cascade);
            // No annotator ever gets the same task twice.
            e.HasIndex(a => new { a.TaskId, a.AnnotatorId }).IsUnique();
            // One live lease per annotator and project: a second concurrent "next" cannot take a second task.
            e.HasIndex(a => new { a.LabelingProjectId, a.AnnotatorId }).IsUnique().HasFilter("\"Status\" = 'Active'")
                .HasDatabaseName("ix_labeling_assignments_one_active");
            e.HasIndex(a => new { a.LabelingProjectId, a.Status, a.ExpiresAt });
            // An annotator's own assignments: the current lease, returned work, the count behind the gold rate.
            e.HasIndex(a => new { a.LabelingProjectId, a.AnnotatorId, a.Status });
        });
        modelBuilder.Entity<Annotation>(e =>
        {
            e.ToTable("labeling_annotations");
            e.Property(a => a.Status).HasConversion<string>().HasMaxLength(16);
            e.Property(a => a.ReviewState).HasConversion<string>().HasMaxLength(16);
            e.Property(a => a.SkipReason).HasMaxLength(2000);
            e.Property(a => a.Version).IsConcurrencyToken();
            e.HasOne<LabelingTask>().WithMany().HasForeignKey(a => a.TaskId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(a => new { a.TaskId, a.AnnotatorId }).IsUnique();
            e.HasIndex(a => new { a.LabelingProjectId, a.ReviewState });
            e.HasIndex(a => new { a.LabelingProjectId, a.AnnotatorId, a.Status });
        });
        modelBuilder.Entity<Review>(e =>
        {
            e.ToTable("labeling_reviews");
            e.Property(r => r.Decision).HasConversion<string>().HasMaxLength(16);
            e.Property(r => r.Comment).HasMaxLength(4000);
            e.HasOne<Annotation>().WithMany().HasForeignKey(r => r.AnnotationId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(r => r.LabelingProjectId);
        });
        modelBuilder.Entity<HistoryEntry>(e =>
        {
            e.ToTable("labeling_history");
            e.Property(h => h.Action).HasMaxLength(32);
            e.HasIndex(h => new { h.LabelingProjectId, h.TaskId });
        });
        modelBuilder.Entity<Prediction>(e =>
        {
            e.ToTable("labeling_predictions", t => t.HasCheckConstraint("ck_labeling_predictions_score", "\"Score\" IS NULL OR (\"Score\" >= 0 AND \"Score\" <= 1)"));
            e.Property(p => p.Model).HasMaxLength(200);
            e.Property(p => p.ModelVersion).HasMaxLength(200);
            e.HasOne<LabelingTask>().WithMany().HasForeignKey(p => p.TaskId).OnDelete(DeleteBehavior.Cascade);
            e.HasIndex(p => p.TaskId);
            e.HasIndex(p => new { p.LabelingProjectId, p.Score });
            e.HasIndex(p => new { p.LabelingProjectId, p.Model });
        });
        modelBuilder.Entity<ModelEndpoint>(e =>
        {
            e.ToTable("labeling_model_endpoints");
            e.HasKey(m => m.LabelingProjectId);
            e.Property(m => m.Url).HasMaxLength(2048);
            e.Property(m => m.Token).HasMaxLength(4096);
            e.Property(m => m.Model).HasMaxLength(200);
            e.HasOne<LabelingProject>().WithMany().HasForeignKey(m => m.LabelingProjectId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}

public sealed class SqliteLabelingDbContext(DbContextOptions<SqliteLabelingDbContext> options) : LabelingDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        ModuleDatabase.ApplySqliteConventions(configurationBuilder);
}

public sealed class PostgresLabelingDbContext(DbContextOptions<PostgresLabelingDbContext> options) : LabelingDbContext(options);

internal sealed class SqliteLabelingDesignFactory : DesignTimeFactory<SqliteLabelingDbContext>
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
    protected override string Module => "labeling";
}

internal sealed class PostgresLabelingDesignFactory : DesignTimeFactory<PostgresLabelingDbContext>
{
    protected override DatabaseProvider Provider => DatabaseProvider.PostgreSql;
    protected override string Module => "labeling";
}
