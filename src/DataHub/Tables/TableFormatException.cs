using Cube.Core.Errors;

namespace Cube.DataHub.Tables;

/// <summary>
/// The input is not a table Cube can read: ragged rows, unbalanced quotes, invalid UTF-8, an empty file, a damaged
/// Parquet file, a malformed JSON line. Maps to a 422 problem-details response whose extensions carry
/// <c>file</c>, <c>row</c> (1-based line of the input where the record starts) and <c>column</c> where they apply.
/// </summary>
public sealed class TableFormatException : CubeException
{
    public TableFormatException(string fileName, string message, long? row = null, string? column = null, long? byteOffset = null)
        : base(422, "Unreadable table", Describe(fileName, message, row, column))
    {
        FileName = fileName;
        Row = row;
        Column = column;
        ByteOffset = byteOffset;
        With("file", fileName);
        if (row is not null) With("row", row);
        if (column is not null) With("column", column);
        if (byteOffset is not null) With("byteOffset", byteOffset);
    }

    public string FileName { get; }
    /// <summary>1-based line number where the offending record starts (the header is line 1).</summary>
    public long? Row { get; }
    public string? Column { get; }
    /// <summary>0-based offset in the (UTF-8) byte stream, for encoding errors.</summary>
    public long? ByteOffset { get; }

    private static string Describe(string fileName, string message, long? row, string? column)
    {
        var where = row is null ? fileName : column is null ? $"{fileName}, row {row}" : $"{fileName}, row {row}, column '{column}'";
        return $"{where}: {message}";
    }
}
