using System.Text.RegularExpressions;
using Cube.Core.Errors;

namespace Cube.DataHub.Catalog;

/// <summary>Validation of dataset names, tags and version tag names.</summary>
public static partial class Names
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex DatasetPattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex TagPattern();

    public static string Dataset(string? name) =>
        name is not null && DatasetPattern().IsMatch(name) && !name.EndsWith('.')
            ? name
            : throw new ValidationException("name", $"Dataset name '{Printable(name)}' is invalid: 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit.");

    public static string Tag(string? tag, string field = "tags") =>
        tag is not null && TagPattern().IsMatch(tag) && !int.TryParse(tag.TrimStart('v'), out _)
            ? tag
            : throw new ValidationException(field, $"Tag '{Printable(tag)}' is invalid: 1 to 64 lowercase letters, digits, '.', '_' or '-', and not a version number.");

    private static string Printable(string? value) =>
        value is null ? "" : new string(value.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
