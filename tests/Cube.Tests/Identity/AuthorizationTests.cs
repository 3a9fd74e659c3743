using System.Text.Json;
using Cube.Core.Apis;

namespace Cube.Tests.Identity;

public abstract class AuthorizationTests(CubeAppFixture app)
{
    [Theory]
    [InlineData("GET", "/api/me")]
    [InlineData("GET", "/api/projects")]
    [InlineData("POST", "/api/projects")]
    [InlineData("GET", "/api/users")]
    [InlineData("GET", "/api/projects/anything/members")]
    [InlineData("GET", "/api/runs/0193a000-0000-7000-8000-000000000000")]
    public async Task Api_Returns401ProblemDetails_WhenNoCredentials(string method, string path)
    {
        using var client = app.Anonymous();
        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "POST" ? JsonContent.Create(new { }) : null });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task SignIn_Returns401_WhenPasswordWrong()
    {
        using var client = app.Anonymous();
        var response = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(CubeAppFixture.AdminUser, "wrong-password-123"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Cookie_AuthenticatesAndSignOutEndsIt()
    {
        using var admin = await app.AdminAsync();
        var me = await admin.GetFromJsonAsync<MeDto>("/api/me");
        Assert.True(me!.User.IsAdmin);

        (await admin.PostAsync("/api/auth/sign-out", null)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task Token_WorksUntilRevoked()
    {
        var (client, name) = await app.CreateUserClientAsync();
        var me = await client.GetFromJsonAsync<MeDto>("/api/me");
        Assert.Equal(name, me!.User.UserName);

        var tokens = await client.GetFromJsonAsync<List<TokenDto>>("/api/me/tokens");
        var token = Assert.Single(tokens!);
        Assert.True(token.Active);
        Assert.StartsWith("cube_", token.DisplayPrefix);
        Assert.NotNull(token.LastUsedAt);

        (await client.DeleteAsync($"/api/me/tokens/{token.Id}")).EnsureSuccessStatusCode();
        var after = await client.GetAsync("/api/me");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal("application/problem+json", after.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Token_IsRejected_WhenUnknownOrMalformed()
    {
        using var unknown = app.BearerClient("cube_" + new string('A', 43));
        Assert.Equal(HttpStatusCode.Unauthorized, (await unknown.GetAsync("/api/me")).StatusCode);
        using var malformed = app.BearerClient("not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await malformed.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task TokenSecret_IsStoredOnlyAsHash()
    {
        using var admin = await app.AdminAsync();
        var created = await (await admin.PostAsJsonAsync("/api/me/tokens", new CreateTokenRequest("hash-check", 30))).Content.ReadFromJsonAsync<CreatedTokenDto>();
        Assert.NotNull(created!.Token.ExpiresAt);

        using var scope = app.Factory.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<Cube.Core.Data.CoreDbContext>();
        var row = await db.ApiTokens.AsNoTracking().SingleAsync(t => t.Id == created.Token.Id);
        Assert.NotEqual(created.Secret, row.TokenHash);
        Assert.Equal(Cube.Core.Identity.TokenCodec.HashToken(created.Secret), row.TokenHash);
        Assert.DoesNotContain(created.Secret, row.DisplayPrefix + row.Name);
    }

    [Fact]
    public async Task ProjectEndpoints_Return403_WhenCallerLacksTheRole()
    {
        var (viewer, viewerName) = await app.CreateUserClientAsync("viewer");
        var (outsider, _) = await app.CreateUserClientAsync("outsider");
        var slug = await app.CreateProjectAsync((viewerName, "viewer"));

        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/api/projects/{slug}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/api/projects/{slug}/members")).StatusCode);

        var patch = await viewer.PatchAsJsonAsync($"/api/projects/{slug}", new UpdateProjectRequest("renamed", null, null));
        Assert.Equal(HttpStatusCode.Forbidden, patch.StatusCode);
        Assert.Equal("application/problem+json", patch.Content.Headers.ContentType?.MediaType);

        var read = await outsider.GetAsync($"/api/projects/{slug}");
        Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        Assert.Equal("application/problem+json", read.Content.Headers.ContentType?.MediaType);

        var outsiderProjects = await outsider.GetFromJsonAsync<Page<ProjectDto>>("/api/projects");
        Assert.DoesNotContain(outsiderProjects!.Items, p => p.Slug == slug);
    }

    [Fact]
    public async Task Manager_CanGrantRoles_AndRoleChangesTakeEffect()
    {
        var (manager, managerName) = await app.CreateUserClientAsync("manager");
        var (member, memberName) = await app.CreateUserClientAsync("member");
        var slug = await app.CreateProjectAsync((managerName, "manager"));

        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync($"/api/projects/{slug}")).StatusCode);
        (await manager.PutAsJsonAsync($"/api/projects/{slug}/members/{memberName}", new SetMemberRequest("annotator"))).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync($"/api/projects/{slug}")).StatusCode);

        var bad = await manager.PutAsJsonAsync($"/api/projects/{slug}/members/{memberName}", new SetMemberRequest("overlord"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

        (await manager.DeleteAsync($"/api/projects/{slug}/members/{memberName}")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Forbidden, (await member.GetAsync($"/api/projects/{slug}")).StatusCode);
    }

    [Fact]
    public async Task AdminEndpoints_Return403_ForNonAdmins()
    {
        var (user, _) = await app.CreateUserClientAsync();
        var response = await user.PostAsJsonAsync("/api/users", new CreateUserRequest("someone-else", "long-enough-password", null, true));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task DisabledUser_LosesAccessAtOnce()
    {
        var (user, name) = await app.CreateUserClientAsync();
        using var admin = await app.AdminAsync();
        var users = await admin.GetFromJsonAsync<Page<UserDto>>($"/api/users?search={name}");
        var id = Assert.Single(users!.Items).Id;
        (await admin.PatchAsJsonAsync($"/api/users/{id}", new UpdateUserRequest(null, true, null))).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.Unauthorized, (await user.GetAsync("/api/me")).StatusCode);
    }

    [Fact]
    public async Task ProjectUpdate_Returns412_WhenIfMatchIsStale()
    {
        using var admin = await app.AdminAsync();
        var slug = await app.CreateProjectAsync();
        var first = await admin.GetAsync($"/api/projects/{slug}");
        var etag = first.Headers.ETag!.ToString();

        var ok = new HttpRequestMessage(HttpMethod.Patch, $"/api/projects/{slug}") { Content = JsonContent.Create(new UpdateProjectRequest("one", null, null)) };
        ok.Headers.TryAddWithoutValidation("If-Match", etag);
        Assert.Equal(HttpStatusCode.OK, (await admin.SendAsync(ok)).StatusCode);

        var stale = new HttpRequestMessage(HttpMethod.Patch, $"/api/projects/{slug}") { Content = JsonContent.Create(new UpdateProjectRequest("two", null, null)) };
        stale.Headers.TryAddWithoutValidation("If-Match", etag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await admin.SendAsync(stale)).StatusCode);
    }

    [Fact]
    public async Task CreateProject_ValidatesSlugAndRejectsDuplicates()
    {
        var (user, _) = await app.CreateUserClientAsync();
        var invalid = await user.PostAsJsonAsync("/api/projects", new CreateProjectRequest("Bad Slug!", "x", null));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var problem = await invalid.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("slug", out _));

        var slug = "dup-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(HttpStatusCode.Created, (await user.PostAsJsonAsync("/api/projects", new CreateProjectRequest(slug, "x", null))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await user.PostAsJsonAsync("/api/projects", new CreateProjectRequest(slug, "x", null))).StatusCode);

        var page = await user.GetFromJsonAsync<Page<ProjectDto>>("/api/projects");
        Assert.Equal("manager", Assert.Single(page!.Items, p => p.Slug == slug).MyRole);
    }
}

public sealed class SqliteAuthorizationTests(SqliteCubeApp app) : AuthorizationTests(app), IClassFixture<SqliteCubeApp>;

public sealed class PostgresAuthorizationTests(PostgresCubeApp app) : AuthorizationTests(app), IClassFixture<PostgresCubeApp>;
