using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Cube.Features.Hosting;

/// <summary>Composition of the Features module: services in <see cref="AddFeatures"/>, endpoints in <see cref="MapFeatures"/>.</summary>
public static class FeaturesModule
{
    public static IHostApplicationBuilder AddFeatures(this IHostApplicationBuilder builder) => builder;

    public static IEndpointRouteBuilder MapFeatures(this IEndpointRouteBuilder endpoints) => endpoints;
}
