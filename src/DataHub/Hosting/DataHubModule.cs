using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Cube.DataHub.Hosting;

/// <summary>Composition of the DataHub module: services in <see cref="AddDataHub"/>, endpoints in <see cref="MapDataHub"/>.</summary>
public static class DataHubModule
{
    public static IHostApplicationBuilder AddDataHub(this IHostApplicationBuilder builder) => builder;

    public static IEndpointRouteBuilder MapDataHub(this IEndpointRouteBuilder endpoints) => endpoints;
}
