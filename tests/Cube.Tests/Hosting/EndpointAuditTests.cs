using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;

namespace Cube.Tests.Hosting;

/// <summary>Every mapped /api endpoint must name an authorisation policy; anonymous ones are an explicit, short list.</summary>
public sealed class EndpointAuditTests(SqliteCubeApp app) : IClassFixture<SqliteCubeApp>
{
    private static readonly HashSet<string> AnonymousAllowed = ["/api/auth/sign-in"];

    [Fact]
    public void EveryApiEndpoint_DeclaresAPolicy()
    {
        var endpoints = app.Factory.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>().ToList();
        var api = endpoints.Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(api);

        var offenders = new List<string>();
        foreach (var endpoint in api)
        {
            var route = endpoint.RoutePattern.RawText!;
            var anonymous = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Where(a => a.Policy is not null).ToList();
            if (anonymous && !AnonymousAllowed.Contains(route)) offenders.Add($"{route} allows anonymous access");
            if (!anonymous && policies.Count == 0) offenders.Add($"{route} names no policy");
        }
        Assert.True(offenders.Count == 0, string.Join(Environment.NewLine, offenders));
    }

    [Fact]
    public async Task HealthAndDocs_AreAnonymous()
    {
        using var client = app.Anonymous();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/readyz")).StatusCode);
        var openApi = await client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("\"/api/projects\"", openApi);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api-reference/")).StatusCode);
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("http_requests_received_total", metrics);
    }
}
