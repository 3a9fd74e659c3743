using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cube.Core.Errors;
using Cube.Features.Engine;
using Cube.Features.Expressions;

namespace Cube.Features.Pipelines;

/// <summary>
/// JSON rows to frames and back, for online transforms and previews. Timestamps are ISO 8601 text (or epoch
/// microseconds); NaN and infinities are the strings "NaN", "Infinity" and "-Infinity", since JSON has no such numbers.
/// </summary>
public static class RowJson
{
    /// <summary>Reads rows against a schema: absent keys are null, keys not in the schema are ignored.</summary>
    public static Frame ToFrame(IReadOnlyList<JsonObject> rows, FrameSchema schema)
    {
        var columns = new List<Column>();
        foreach (var field in schema.Fields)
        {
            var values = Column.NewValues(field.Kind, rows.Count);
            var valid = new bool[rows.Count];
            for (var r = 0; r < rows.Count; r++)
            {
                var node = rows[r][field.Name];
                if (node is null) continue;
                try
                {
                    valid[r] = Read(node, field.Kind, values, r);
                }
                catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
                {
                    valid[r] = false;
                }
                if (!valid[r])
                    throw new BadRequestException($"Row {r}: '{field.Name}' must be {Describe(field.Kind)}, not {node.ToJsonString()}.")
                        .With("row", r).With("column", field.Name);
            }
            columns.Add(Column.Of(field.Kind, values, valid));
        }
        return new Frame(schema, columns, rows.Count);
    }

    private static bool Read(JsonNode node, DataKind kind, Array values, int r)
    {
        var value = node as JsonValue;
        var valueKind = value?.GetValueKind();
        switch (kind)
        {
            case DataKind.Int64:
                if (valueKind == JsonValueKind.Number && value!.TryGetValue<long>(out var l)) { ((long[])values)[r] = l; return true; }
                if (valueKind == JsonValueKind.Number && Number(value!) is var d && d == Math.Floor(d) && Math.Abs(d) < 9e18) { ((long[])values)[r] = (long)d; return true; }
                return false;
            case DataKind.Float64:
                if (valueKind == JsonValueKind.Number) { ((double[])values)[r] = Number(value!); return true; }
                if (valueKind == JsonValueKind.String && value!.GetValue<string>() is "NaN" or "Infinity" or "-Infinity")
                {
                    ((double[])values)[r] = double.Parse(value.GetValue<string>(), CultureInfo.InvariantCulture);
                    return true;
                }
                return false;
            case DataKind.Boolean:
                if (valueKind is JsonValueKind.True or JsonValueKind.False) { ((bool[])values)[r] = valueKind == JsonValueKind.True; return true; }
                return false;
            case DataKind.String:
                if (valueKind == JsonValueKind.String) { ((string?[])values)[r] = value!.GetValue<string>(); return true; }
                return false;
            case DataKind.Timestamp:
                if (valueKind == JsonValueKind.String && Binder.ParseTimestamp(value!.GetValue<string>()) is { } t) { ((long[])values)[r] = t; return true; }
                if (valueKind == JsonValueKind.Number && value!.TryGetValue<long>(out var micros)) { ((long[])values)[r] = micros; return true; }
                return false;
            case DataKind.SparseVector:
                if (node is JsonObject { } sparse && sparse["indices"] is JsonArray idx && sparse["values"] is JsonArray vals && idx.Count == vals.Count
                    && idx.All(i => i is JsonValue v && v.TryGetValue<int>(out var n) && n >= 0) && vals.All(i => i is JsonValue v && v.GetValueKind() == JsonValueKind.Number))
                {
                    ((SparseVector?[])values)[r] = new SparseVector(idx.Select(i => i!.GetValue<int>()).ToArray(), vals.Select(i => (float)Number(i!.AsValue())).ToArray());
                    return true;
                }
                return false;
            case DataKind.StringList:
                if (node is JsonArray array && array.All(i => i is JsonValue v && v.GetValueKind() == JsonValueKind.String))
                {
                    ((string[]?[])values)[r] = array.Select(i => i!.GetValue<string>()).ToArray();
                    return true;
                }
                return false;
            default:
                return false;
        }
    }

    private static double Number(JsonValue value) =>
        value.TryGetValue<double>(out var d) ? d : value.TryGetValue<long>(out var l) ? l : double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture);

    private static string Describe(DataKind kind) => kind switch
    {
        DataKind.Int64 => "a whole number",
        DataKind.Float64 => "a number",
        DataKind.Boolean => "true or false",
        DataKind.String => "a string",
        DataKind.Timestamp => "an ISO 8601 timestamp",
        DataKind.SparseVector => "a sparse vector {indices: [...], values: [...]}",
        _ => "a list of strings",
    };

    public static List<JsonObject> ToRows(Frame frame, int? limit = null)
    {
        var count = Math.Min(frame.RowCount, limit ?? int.MaxValue);
        var rows = new List<JsonObject>(count);
        for (var r = 0; r < count; r++)
        {
            var row = new JsonObject();
            for (var c = 0; c < frame.Columns.Count; c++) row[frame.Schema.Fields[c].Name] = Value(frame.Columns[c], r);
            rows.Add(row);
        }
        return rows;
    }

    public static JsonNode? Value(Column column, int r)
    {
        if (!column.IsValid(r)) return null;
        return column.Kind switch
        {
            DataKind.Int64 => JsonValue.Create(column.Int64[r]),
            DataKind.Float64 => double.IsFinite(column.Float64[r]) ? JsonValue.Create(column.Float64[r]) : JsonValue.Create(column.Float64[r].ToString(CultureInfo.InvariantCulture)),
            DataKind.Boolean => JsonValue.Create(column.Boolean[r]),
            DataKind.String => JsonValue.Create(column.String[r]),
            DataKind.Timestamp => JsonValue.Create(Casts.FormatTimestamp(column.Timestamp[r])),
            DataKind.StringList => new JsonArray(column.StringList[r]!.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
            DataKind.SparseVector => new JsonObject
            {
                ["indices"] = new JsonArray(column.Sparse[r]!.Indices.Select(i => (JsonNode)JsonValue.Create(i)).ToArray()),
                ["values"] = new JsonArray(column.Sparse[r]!.Values.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()),
            },
            _ => null,
        };
    }
}
