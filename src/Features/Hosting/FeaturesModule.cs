using Cube.Core.Data;
using Cube.Core.Runs;
using Cube.Features.Apis;
using Cube.Features.Data;
using Cube.Features.Pipelines;
using Cube.Features.Runs;
using Cube.Features.Schedules;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cube.Features.Hosting;

/// <summary>Composition of the Features module: services in <see cref="AddFeatures"/>, endpoints in <see cref="MapFeatures"/>.</summary>
public static class FeaturesModule
{
    public static IHostApplicationBuilder AddFeatures(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddModuleDbContext<FeaturesDbContext, SqliteFeaturesDbContext, PostgresFeaturesDbContext>("features");
        services.AddScoped<PipelineService>();
        services.AddSingleton<IRunHandler, PipelineRunHandler>();
        services.AddOptions<SchedulesOptions>().BindConfiguration(SchedulesOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<ScheduleService>();
        services.AddScoped<ScheduleRegistrar>();
        services.AddTransient<ScheduleJobs>();
        services.AddHostedService<ScheduleSupervisor>();
        return builder;
    }

    public static IEndpointRouteBuilder MapFeatures(this IEndpointRouteBuilder endpoints) => endpoints.MapPipelinesApi().MapSchedulesApi();
}
