using Cube.Core.Data;
using Cube.Labeling.Data;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Cube.Labeling.Hosting;

/// <summary>Composition of the Labeling module: services in <see cref="AddLabeling"/>, endpoints in <see cref="MapLabeling"/>.</summary>
public static class LabelingModule
{
    public static IHostApplicationBuilder AddLabeling(this IHostApplicationBuilder builder)
    {
        builder.Services.AddModuleDbContext<LabelingDbContext, SqliteLabelingDbContext, PostgresLabelingDbContext>("labeling");
        return builder;
    }

    public static IEndpointRouteBuilder MapLabeling(this IEndpointRouteBuilder endpoints) => endpoints;
}
