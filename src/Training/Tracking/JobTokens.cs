using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Cube.Training.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cube.Training.Tracking;

/// <summary>
/// The token a running job reports with (<c>CUBE_TRACKING_TOKEN</c>): <c>cjt_{job id}_{secret}</c>. It names one job,
/// is valid only while that job runs, and can do nothing but report for it. Only its SHA-256 is stored.
/// </summary>
public static class JobTokens
{
    public const string Scheme = "CubeJobToken";
    public const string Policy = "training:job-token";
    public const string JobClaim = "cube:training-job";
    private const string Prefix = "cjt_";

    /// <summary>A fresh token for the job; its hash is set on the job, to be saved by the caller.</summary>
    public static string Mint(TrainingJob job)
    {
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        job.TrackingTokenHash = Hash(secret);
        return $"{Prefix}{job.Id:N}_{secret}";
    }

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>The job id and secret of a well-formed token; null otherwise.</summary>
    public static (Guid JobId, string Secret)? Parse(string token)
    {
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length != Prefix.Length + 32 + 1 + 64 || token[Prefix.Length + 32] != '_') return null;
        return Guid.TryParseExact(token.AsSpan(Prefix.Length, 32), "N", out var id) ? (id, token[(Prefix.Length + 33)..]) : null;
    }
}

/// <summary>Authenticates <c>Authorization: Bearer cjt_…</c> against the running job it names.</summary>
internal sealed class JobTokenAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TrainingDbContext db)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        if (JobTokens.Parse(header["Bearer ".Length..].Trim()) is not var (jobId, secret)) return AuthenticateResult.Fail("Not a job token.");
        var job = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => new { j.Id, j.ProjectId, j.State, j.TrackingTokenHash }).FirstOrDefaultAsync(Context.RequestAborted);
        if (job?.TrackingTokenHash is null || job.State != JobState.Running
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(job.TrackingTokenHash), Encoding.ASCII.GetBytes(JobTokens.Hash(secret))))
            return AuthenticateResult.Fail("The job token is unknown or its job is not running.");
        var identity = new ClaimsIdentity([new Claim(JobTokens.JobClaim, job.Id.ToString()), new Claim("cube:project", job.ProjectId.ToString())], JobTokens.Scheme);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), JobTokens.Scheme));
    }
}
