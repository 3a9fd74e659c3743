using Cube.Core.Apis;
using Cube.Core.Data;
using Cube.Core.Identity;
using Cube.Core.Runs;
using Cube.DataHub.Apis;
using Cube.DataHub.Blobs;
using Cube.DataHub.Catalog;
using Cube.DataHub.Data;
using Cube.DataHub.Tables;
using Cube.DataHub.Uploads;
using Cube.DataHub.Versions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cube.DataHub.Hosting;

/// <summary>Composition of the DataHub module: services in <see cref="AddDataHub"/>, endpoints in <see cref="MapDataHub"/>.</summary>
public static class DataHubModule
{
    public static IHostApplicationBuilder AddDataHub(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DataHubOptions>().BindConfiguration(DataHubOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddModuleDbContext<DataHubDbContext, SqliteDataHubDbContext, PostgresDataHubDbContext>("datahub");
        services.AddSingleton<BlobStore>();
        services.AddSingleton<ArchiveExpansion>();
        services.AddScoped<DatasetResolver>();
        services.AddScoped<UploadService>();
        services.AddScoped<VersionWriter>();
        services.AddScoped<TableCatalog>();
        services.AddSingleton<Images.ImageCatalog>();
        services.AddSingleton<IRunHandler, CommitHandler>();
        services.AddSingleton<IRunHandler, GarbageCollector>();
        services.AddSingleton<IRunHandler, Ingest.ImportHandler>();
        return builder;
    }

    public static IEndpointRouteBuilder MapDataHub(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapDatasetsApi().MapUploadsApi().MapVersionsApi().MapTablesApi().MapLineageApi().MapImagesApi().MapTextPreviewApi();
        endpoints.MapPost("/api/admin/datahub/gc", async (RunService runs, System.Security.Claims.ClaimsPrincipal user, CancellationToken cancellationToken) =>
                TypedResults.Accepted("/api/runs", RunDto.From(await runs.EnqueueAsync(GarbageCollector.RunKind, new { }, user.GetUserId(), null, cancellationToken))))
            .WithTags("Datasets").WithName("CollectGarbage").WithSummary("Starts garbage collection of unreferenced blobs as a run.")
            .RequireAuthorization(CubePolicies.Admin);
        return endpoints;
    }
}
