using System.ComponentModel.DataAnnotations;

namespace Cube.Core;

/// <summary>Platform-wide settings (section <c>Cube</c>).</summary>
public sealed class CubeOptions
{
    public const string SectionName = "Cube";

    /// <summary>Where every piece of embedded state lives: the SQLite file, local objects, indexes.</summary>
    [Required]
    public string DataDirectory { get; set; } = DefaultDataDirectory();

    /// <summary>The full path of <see cref="DataDirectory"/>.</summary>
    public string DataPath => Path.GetFullPath(DataDirectory);

    private static string DefaultDataDirectory() =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify) is { Length: > 0 } home ? home : ".", ".cube");
}
