namespace Cube.Core.Errors;

/// <summary>
/// An error a client caused and can act on. The exception handler turns it into an RFC 9457 problem-details
/// response with <see cref="StatusCode"/>, <see cref="Title"/>, the message as detail and <see cref="Extensions"/>.
/// </summary>
public class CubeException(int statusCode, string title, string detail) : Exception(detail)
{
    public int StatusCode { get; } = statusCode;
    public string Title { get; } = title;
    /// <summary>Extra members of the problem body: the file, row and column of a parse error, say.</summary>
    public IDictionary<string, object?> Extensions { get; } = new Dictionary<string, object?>();

    public CubeException With(string name, object? value)
    {
        Extensions[name] = value;
        return this;
    }
}

public sealed class NotFoundException(string what, string id)
    : CubeException(404, "Not found", $"{what} '{id}' does not exist.");

public sealed class ConflictException(string detail) : CubeException(409, "Conflict", detail);

public sealed class BadRequestException(string detail) : CubeException(400, "Bad request", detail);

public sealed class ForbiddenException(string detail) : CubeException(403, "Forbidden", detail);

public sealed class PreconditionFailedException(string detail) : CubeException(412, "Precondition failed", detail);

public sealed class PayloadTooLargeException : CubeException
{
    public PayloadTooLargeException(long limit) : base(413, "Content too large", $"The content is larger than the limit of {limit:N0} bytes.")
    {
        Limit = limit;
        With("limit", limit);
    }

    public PayloadTooLargeException(string detail, long limit) : base(413, "Content too large", detail)
    {
        Limit = limit;
        With("limit", limit);
    }

    public long Limit { get; }
}

public sealed class UnprocessableException(string detail) : CubeException(422, "Unprocessable content", detail);

/// <summary>Field-level validation errors, returned as a validation problem (400) with an <c>errors</c> map.</summary>
public sealed class ValidationException : CubeException
{
    public ValidationException(IDictionary<string, string[]> errors)
        : base(400, "One or more validation errors occurred.", string.Join(" ", errors.SelectMany(e => e.Value)))
    {
        Errors = errors;
    }

    public ValidationException(string field, string message) : this(new Dictionary<string, string[]> { [field] = [message] }) { }

    public IDictionary<string, string[]> Errors { get; }
}
