using Cube.Testing;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Cube.Labeling.Tests.Api;

/// <summary>The labeling endpoints are mapped, each names a policy, and the OpenAPI document describes them.</summary>
public sealed class LabelingEndpointsTests(SqliteCubeApp app) : IClassFixture<SqliteCubeApp>
{
    [Fact]
    public async Task LabelingEndpoints_NameAPolicy_AndAppearInOpenApi()
    {
        var endpoints = app.Factory.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/projects/{project}/labeling", StringComparison.Ordinal) == true).ToList();
        Assert.True(endpoints.Count >= 20, $"only {endpoints.Count} labeling endpoints are mapped");
        Assert.All(endpoints, e => Assert.Contains(e.Metadata.GetOrderedMetadata<IAuthorizeData>(), a => a.Policy is not null));

        using var client = app.Anonymous();
        var openApi = await client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("\"/api/projects/{project}/labeling/{labeling}/next\"", openApi);
        Assert.Contains("\"/api/projects/{project}/labeling/{labeling}/annotations/{annotation}/review\"", openApi);
    }
}
