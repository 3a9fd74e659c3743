using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Cube.Knowledge.Hosting;

/// <summary>Composition of the Knowledge module: services in <see cref="AddKnowledge"/>, endpoints in <see cref="MapKnowledge"/>.</summary>
public static class KnowledgeModule
{
    public static IHostApplicationBuilder AddKnowledge(this IHostApplicationBuilder builder) => builder;

    public static IEndpointRouteBuilder MapKnowledge(this IEndpointRouteBuilder endpoints) => endpoints;
}
