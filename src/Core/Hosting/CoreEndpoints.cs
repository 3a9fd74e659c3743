using Cube.Core.Apis;
using Microsoft.AspNetCore.Routing;

namespace Cube.Core.Hosting;

public static class CoreEndpoints
{
    /// <summary>Maps identity, project, run and webhook endpoints.</summary>
    public static IEndpointRouteBuilder MapCubeCore(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapAuthApi().MapMeApi().MapUsersApi().MapProjectsApi().MapRunsApi().MapWebhooksApi();
}
