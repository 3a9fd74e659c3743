using System.Text.Json;
using System.Text.RegularExpressions;
using Cube.Core.Errors;
using Cube.Training.Data;
using Microsoft.EntityFrameworkCore;

namespace Cube.Training.Registry;

/// <summary>
/// Registered models and their versions. A version is an artifact of a succeeded job; registering snapshots the job's
/// final metrics and its lineage to the dataset versions it read. Aliases (staging, production, ...) move between versions.
/// </summary>
public sealed partial class ModelRegistry(TrainingDbContext db, TimeProvider time)
{
    public static readonly string[] Flavors = ["mlnet", "onnx", "torchscript", "pytorch", "tensorflow", "other"];

    public async Task<RegisteredModel> CreateAsync(Guid projectId, string name, string? description, CancellationToken cancellationToken)
    {
        ValidateName(name);
        if (await db.Models.AnyAsync(m => m.ProjectId == projectId && m.Name == name, cancellationToken))
            throw new ConflictException($"A model named '{name}' already exists in this project.");
        var model = new RegisteredModel { ProjectId = projectId, Name = name, Description = description ?? "", CreatedAt = time.GetUtcNow() };
        db.Models.Add(model);
        await SaveUniqueAsync($"A model named '{name}' already exists in this project.", cancellationToken);
        return model;
    }

    public async Task<RegisteredModel> FindAsync(Guid projectId, string name, CancellationToken cancellationToken) =>
        await db.Models.FirstOrDefaultAsync(m => m.ProjectId == projectId && m.Name == name, cancellationToken)
        ?? throw new NotFoundException("Model", name);

    /// <summary>Registers a new version from a job artifact; creates the model on first registration.</summary>
    public async Task<ModelVersion> RegisterAsync(Guid projectId, string modelName, Guid jobId, string artifactPath, string flavor, string? description, Guid? userId, CancellationToken cancellationToken, string? signatureJson = null)
    {
        ValidateName(modelName);
        if (!Flavors.Contains(flavor)) throw new ValidationException("flavor", $"'{flavor}' is not a model flavour; use one of {string.Join(", ", Flavors)}.");
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId && j.ProjectId == projectId, cancellationToken)
            ?? throw new ValidationException("jobId", $"Training job '{jobId}' does not exist in this project.");
        if (job.State != JobState.Succeeded)
            throw new ValidationException("jobId", $"Job '{job.Name}' has not succeeded (it is {job.State.ToString().ToLowerInvariant()}); only a succeeded job's artifacts can become a model version.");
        return await AddVersionAsync(job, modelName, artifactPath, flavor, description, signatureJson, userId, cancellationToken);
    }

    /// <summary>
    /// Registers the artifact of a job that is ending in success, in the same save as the job's own pending changes (its
    /// succeeded state), so no client sees a succeeded built-in job without its model version.
    /// </summary>
    internal async Task<ModelVersion> RegisterFromJobAsync(TrainingJob job, string modelName, string artifactPath, string flavor, string? description,
        string? signatureJson, CancellationToken cancellationToken)
    {
        ValidateName(modelName);
        return await AddVersionAsync(job, modelName, artifactPath, flavor, description, signatureJson, job.SubmittedBy, cancellationToken);
    }

    private async Task<ModelVersion> AddVersionAsync(TrainingJob job, string modelName, string artifactPath, string flavor, string? description,
        string? signatureJson, Guid? userId, CancellationToken cancellationToken)
    {
        var jobId = job.Id;
        var projectId = job.ProjectId;
        var artifact = await db.Artifacts.AsNoTracking().FirstOrDefaultAsync(a => a.JobId == jobId && a.Path == artifactPath, cancellationToken)
            ?? throw new ValidationException("artifactPath", $"Job '{job.Name}' has no artifact '{artifactPath}'.");

        var model = await db.Models.FirstOrDefaultAsync(m => m.ProjectId == projectId && m.Name == modelName, cancellationToken);
        if (model is null)
        {
            model = new RegisteredModel { ProjectId = projectId, Name = modelName, CreatedAt = time.GetUtcNow() };
            db.Models.Add(model);
        }
        var metrics = await db.Metrics.AsNoTracking().Where(m => m.JobId == jobId)
            .GroupBy(m => m.Name)
            .Select(g => new { Name = g.Key, Last = g.OrderByDescending(m => m.Step).ThenByDescending(m => m.Id).Select(m => m.Value).First() })
            .ToListAsync(cancellationToken);
        // Version numbers come from the model row; the unique (model, number) index turns a concurrent registration into a retryable 409.
        model.LatestVersion++;
        var version = new ModelVersion
        {
            ModelId = model.Id,
            Number = model.LatestVersion,
            JobId = jobId,
            RunId = job.RunId,
            ArtifactPath = artifact.Path,
            ObjectKey = artifact.ObjectKey,
            Sha256 = artifact.Sha256,
            Size = artifact.Size,
            Flavor = flavor,
            Description = description ?? "",
            SignatureJson = signatureJson,
            MetricsJson = JsonSerializer.Serialize(metrics.OrderBy(m => m.Name, StringComparer.Ordinal).ToDictionary(m => m.Name, m => m.Last)),
            CreatedBy = userId,
            CreatedAt = time.GetUtcNow(),
        };
        db.ModelVersions.Add(version);
        foreach (var input in await db.Inputs.AsNoTracking().Where(i => i.JobId == jobId).ToListAsync(cancellationToken))
        {
            db.ModelLineage.Add(new ModelVersionLineage
            {
                ModelVersionId = version.Id,
                DatasetVersionId = input.VersionId,
                DatasetId = input.DatasetId,
                Dataset = input.Dataset,
                VersionNumber = input.VersionNumber,
            });
        }
        await SaveUniqueAsync($"Model '{modelName}' got another version at the same time; retry.", cancellationToken);
        return version;
    }

    /// <summary>A version by number, <c>v3</c>, alias or <c>latest</c>.</summary>
    public async Task<ModelVersion> VersionAsync(RegisteredModel model, string reference, CancellationToken cancellationToken)
    {
        ModelVersion? version;
        if (reference == "latest")
            version = await db.ModelVersions.AsNoTracking().Where(v => v.ModelId == model.Id).OrderByDescending(v => v.Number).FirstOrDefaultAsync(cancellationToken);
        else if (int.TryParse(reference.StartsWith('v') ? reference[1..] : reference, out var number))
            version = await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.ModelId == model.Id && v.Number == number, cancellationToken);
        else
        {
            var alias = await db.ModelAliases.AsNoTracking().FirstOrDefaultAsync(a => a.ModelId == model.Id && a.Alias == reference, cancellationToken);
            version = alias is null ? null : await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.Id == alias.VersionId, cancellationToken);
        }
        return version ?? throw new NotFoundException($"Version of model '{model.Name}'", reference);
    }

    /// <summary>Points <paramref name="alias"/> (a stage such as staging or production) at the version; moves it if it pointed elsewhere.</summary>
    public async Task<ModelAlias> PromoteAsync(RegisteredModel model, ModelVersion version, string alias, CancellationToken cancellationToken)
    {
        if (!AliasName().IsMatch(alias) || alias == "latest" || (alias.StartsWith('v') && alias[1..].All(char.IsAsciiDigit)))
            throw new ValidationException("stage", $"'{alias}' is not a valid stage or alias: 1–64 lower-case letters, digits and '-', starting with a letter, and not 'latest' or a version like 'v2'.");
        var existing = await db.ModelAliases.FirstOrDefaultAsync(a => a.ModelId == model.Id && a.Alias == alias, cancellationToken);
        if (existing is null)
        {
            existing = new ModelAlias { ModelId = model.Id, Alias = alias, VersionId = version.Id, UpdatedAt = time.GetUtcNow() };
            db.ModelAliases.Add(existing);
        }
        else
        {
            existing.VersionId = version.Id;
            existing.UpdatedAt = time.GetUtcNow();
        }
        await SaveUniqueAsync($"Alias '{alias}' was changed at the same time; retry.", cancellationToken);
        return existing;
    }

    private async Task SaveUniqueAsync(string conflict, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            throw new ConflictException(conflict);
        }
    }

    private static void ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name) || !ModelName().IsMatch(name))
            throw new ValidationException("name", $"'{name}' is not a valid model name: 1–128 letters, digits, '-', '_' and '.', starting with a letter or digit.");
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex ModelName();

    [GeneratedRegex("^[a-z][a-z0-9-]{0,63}$")]
    private static partial Regex AliasName();
}
