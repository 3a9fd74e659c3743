using System.ComponentModel.DataAnnotations;

namespace Cube.Core.Storage;

/// <summary>Object storage settings (section <c>Cube:Storage</c>).</summary>
public sealed class StorageOptions : IValidatableObject
{
    public const string SectionName = "Cube:Storage";

    /// <summary><c>Local</c> (default), <c>S3</c> or <c>WebHdfs</c>.</summary>
    public string Kind { get; set; } = "Local";

    /// <summary>Root directory of the local store; defaults to <c>{DataDirectory}/objects</c>.</summary>
    public string? LocalRoot { get; set; }

    public S3StorageOptions S3 { get; set; } = new();

    public WebHdfsStorageOptions WebHdfs { get; set; } = new();

    public bool IsS3 => string.Equals(Kind, "S3", StringComparison.OrdinalIgnoreCase);

    public bool IsWebHdfs => string.Equals(Kind, "WebHdfs", StringComparison.OrdinalIgnoreCase);

    public string ResolveLocalRoot(CubeOptions cube) => Path.GetFullPath(LocalRoot ?? Path.Combine(cube.DataPath, "objects"));

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IsS3 && !IsWebHdfs && !string.Equals(Kind, "Local", StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult($"Cube:Storage:Kind '{Kind}' is unknown; use 'Local', 'S3' or 'WebHdfs'.", [nameof(Kind)]);
            yield break;
        }
        if (IsWebHdfs)
        {
            foreach (var problem in WebHdfs.Problems()) yield return new ValidationResult(problem, [nameof(WebHdfs)]);
            yield break;
        }
        if (!IsS3) yield break;
        if (!Uri.TryCreate(S3.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            yield return new ValidationResult($"Cube:Storage:S3:Endpoint '{S3.Endpoint}' must be an absolute http(s) URL.", [nameof(S3)]);
        if (string.IsNullOrWhiteSpace(S3.Bucket))
            yield return new ValidationResult("Cube:Storage:S3:Bucket is required when Cube:Storage:Kind is S3.", [nameof(S3)]);
        if (string.IsNullOrEmpty(S3.AccessKey) || string.IsNullOrEmpty(S3.SecretKey))
            yield return new ValidationResult("Cube:Storage:S3:AccessKey and Cube:Storage:S3:SecretKey are required when Cube:Storage:Kind is S3.", [nameof(S3)]);
    }
}

/// <summary>Settings for any S3-compatible server (MinIO, AWS S3, ...).</summary>
public sealed class S3StorageOptions
{
    /// <summary>e.g. <c>http://127.0.0.1:9000</c> or <c>https://s3.eu-west-1.amazonaws.com</c>.</summary>
    public string Endpoint { get; set; } = "";
    public string Bucket { get; set; } = "cube";
    public string AccessKey { get; set; } = "";
    public string SecretKey { get; set; } = "";
    public string Region { get; set; } = "us-east-1";
    /// <summary>Prefix for every key, so several deployments can share a bucket.</summary>
    public string? KeyPrefix { get; set; }
    /// <summary>Create the bucket at start-up when it does not exist.</summary>
    public bool CreateBucket { get; set; } = true;
    /// <summary>Part size for multipart uploads, in MiB (S3 allows 5 to 5120).</summary>
    [Range(5, 5120)]
    public int PartSizeMiB { get; set; } = 16;
}
