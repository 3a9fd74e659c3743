using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Cube.Hosting;

/// <summary>Declares the two ways to authenticate so the API reference can send tokens.</summary>
internal sealed class OpenApiSecurity : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Cube API";
        document.Info.Description = "Datasets, feature pipelines, labeling, training, serving and knowledge bases. Authenticate with the session cookie (POST /api/auth/sign-in) or an API token as `Authorization: Bearer cube_...`.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API token created under /api/me/tokens.",
        };
        document.Components.SecuritySchemes["cookie"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Cookie,
            Name = "cube.auth",
        };
        return Task.CompletedTask;
    }
}
