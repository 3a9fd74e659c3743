using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Cube.Serving.Hosting;

/// <summary>Composition of the Serving module: services in <see cref="AddServing"/>, endpoints in <see cref="MapServing"/>.</summary>
public static class ServingModule
{
    public static IHostApplicationBuilder AddServing(this IHostApplicationBuilder builder) => builder;

    public static IEndpointRouteBuilder MapServing(this IEndpointRouteBuilder endpoints) => endpoints;
}
