using Cube.Core.Identity;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Cube.Core.Projects;
using Cube.Core.Runs;
using Cube.Core.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace Cube.Core.Data;

/// <summary>Users, tokens, projects and runs. Subclassed per provider so each engine has its own migrations.</summary>
public abstract class CoreDbContext(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>Cookie-signing keys live in the database so every server process of a deployment shares them.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<User> Users => Set<User>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<Project> Projects => Set<Project>();
    public DbSet<ProjectMember> ProjectMembers => Set<ProjectMember>();
    public DbSet<Run> Runs => Set<Run>();
    public DbSet<WebhookSubscription> WebhookSubscriptions => Set<WebhookSubscription>();
    public DbSet<WebhookEvent> WebhookEvents => Set<WebhookEvent>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<DataProtectionKey>().ToTable("core_data_protection_keys");
        modelBuilder.Entity<User>(e =>
        {
            e.ToTable("core_users");
            e.Property(u => u.UserName).HasMaxLength(64);
            e.Property(u => u.NormalizedUserName).HasMaxLength(64);
            e.HasIndex(u => u.NormalizedUserName).IsUnique();
            e.Property(u => u.DisplayName).HasMaxLength(200);
            e.Property(u => u.SecurityStamp).HasMaxLength(64);
        });
        modelBuilder.Entity<ApiToken>(e =>
        {
            e.ToTable("core_api_tokens");
            e.Property(t => t.Name).HasMaxLength(100);
            e.Property(t => t.DisplayPrefix).HasMaxLength(16);
            e.Property(t => t.TokenHash).HasMaxLength(64);
            e.HasIndex(t => t.TokenHash).IsUnique();
            e.HasIndex(t => t.UserId);
            e.HasOne<User>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<Project>(e =>
        {
            e.ToTable("core_projects");
            e.Property(p => p.Slug).HasMaxLength(64);
            e.HasIndex(p => p.Slug).IsUnique();
            e.Property(p => p.Name).HasMaxLength(200);
            e.Property(p => p.Description).HasMaxLength(4000);
            e.Property(p => p.Version).IsConcurrencyToken();
        });
        modelBuilder.Entity<ProjectMember>(e =>
        {
            e.ToTable("core_project_members");
            e.HasKey(m => new { m.ProjectId, m.UserId });
            e.HasIndex(m => m.UserId);
            e.Property(m => m.Role).HasConversion<string>().HasMaxLength(16);
            e.HasOne<Project>().WithMany().HasForeignKey(m => m.ProjectId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<User>().WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<Run>(e =>
        {
            e.ToTable("core_runs");
            e.Property(r => r.Kind).HasMaxLength(100);
            e.Property(r => r.State).HasConversion<string>().HasMaxLength(16);
            e.Property(r => r.Message).HasMaxLength(2000);
            e.Property(r => r.Error).HasMaxLength(8000);
            e.Property(r => r.WorkerId).HasMaxLength(200);
            e.HasIndex(r => new { r.State, r.HeartbeatAt });
            e.HasIndex(r => new { r.ProjectId, r.CreatedAt });
            e.HasIndex(r => new { r.SubjectId, r.Kind });
        });
        modelBuilder.Entity<WebhookSubscription>(e =>
        {
            e.ToTable("core_webhook_subscriptions");
            e.Property(s => s.Url).HasMaxLength(2000);
            e.Property(s => s.Events).HasMaxLength(2000);
            e.Property(s => s.Description).HasMaxLength(500);
            e.Property(s => s.ProtectedSecret).HasMaxLength(2000);
            e.Ignore(s => s.EventList);
            e.HasIndex(s => s.ProjectId);
            e.HasOne<Project>().WithMany().HasForeignKey(s => s.ProjectId).OnDelete(DeleteBehavior.Cascade);
        });
        WebhookEvent.Map(modelBuilder, owned: true);
        modelBuilder.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("core_webhook_deliveries");
            e.Property(d => d.EventType).HasMaxLength(100);
            e.Property(d => d.State).HasConversion<string>().HasMaxLength(16);
            e.Property(d => d.LastError).HasMaxLength(2000);
            e.HasIndex(d => new { d.State, d.NextAttemptAt });
            // A subscription's deliveries newest first (its log, its last delivery) straight from the index.
            e.HasIndex(d => new { d.SubscriptionId, d.Id });
            e.HasIndex(d => d.EventId);
            e.HasOne<WebhookSubscription>().WithMany().HasForeignKey(d => d.SubscriptionId).OnDelete(DeleteBehavior.Cascade);
        });
    }
}

public sealed class SqliteCoreDbContext(DbContextOptions<SqliteCoreDbContext> options) : CoreDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        ModuleDatabase.ApplySqliteConventions(configurationBuilder);
}

public sealed class PostgresCoreDbContext(DbContextOptions<PostgresCoreDbContext> options) : CoreDbContext(options);
