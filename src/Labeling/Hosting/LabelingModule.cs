using Cube.Core.Data;
using Cube.Labeling.Annotations;
using Cube.Labeling.Apis;
using Cube.Labeling.Data;
using Cube.Labeling.Distribution;
using Cube.Labeling.Projects;
using Cube.Labeling.Reviews;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Cube.Labeling.Hosting;

/// <summary>Composition of the Labeling module: services in <see cref="AddLabeling"/>, endpoints in <see cref="MapLabeling"/>.</summary>
public static class LabelingModule
{
    public static IHostApplicationBuilder AddLabeling(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddModuleDbContext<LabelingDbContext, SqliteLabelingDbContext, PostgresLabelingDbContext>("labeling");
        services.TryAddKeyedSingleton<TimeProvider>(LabelingClock.Key, (sp, _) => sp.GetRequiredService<TimeProvider>());
        services.AddSingleton<WriteGate>();
        services.AddSingleton<ReclaimSchedule>();
        services.AddScoped<History>();
        services.AddScoped<LabelingProjects>();
        services.AddScoped<Distributor>();
        services.AddScoped<AnnotationService>();
        services.AddScoped<ReviewService>();
        services.AddScoped<Formats.ResultExport>();
        services.AddScoped<Formats.DatasetExport>();
        services.AddScoped<Formats.InterchangeExport>();
        services.AddScoped<Predictions.PredictionStore>();
        services.AddOptions<LabelingOptions>().BindConfiguration(LabelingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<Quality.ProjectQuality>();
        foreach (var type in LabelingEvents.All) services.AddSingleton(type);
        services.AddScoped<Prelabel.Prelabeler>();
        services.AddScoped<Prelabel.AutoPrelabel>();
        services.AddSingleton<Core.Runs.IRunHandler, Prelabel.PrelabelHandler>();
        return builder;
    }

    public static IEndpointRouteBuilder MapLabeling(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapLabelingProjectsApi().MapAnnotatorApi().MapReviewApi().MapExportApi().MapQualityApi().MapPredictionsApi().MapPrelabelApi();
}

/// <summary>
/// The clock labeling reads for leases and timestamps: the host's <see cref="TimeProvider"/> unless a keyed one is
/// registered, which lets tests move lease time without moving the clock of the rest of the server.
/// </summary>
public static class LabelingClock
{
    public const string Key = "labeling";
}
