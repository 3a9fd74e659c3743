using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Cube.Training.Hosting;

/// <summary>Composition of the Training module: services in <see cref="AddTraining"/>, endpoints in <see cref="MapTraining"/>.</summary>
public static class TrainingModule
{
    public static IHostApplicationBuilder AddTraining(this IHostApplicationBuilder builder) => builder;

    public static IEndpointRouteBuilder MapTraining(this IEndpointRouteBuilder endpoints) => endpoints;
}
