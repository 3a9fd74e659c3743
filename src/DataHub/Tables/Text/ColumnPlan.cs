namespace Cube.DataHub.Tables.Text;

/// <summary>The type a text column converts to, and whether its strings are dictionary-encoded.</summary>
internal sealed record ColumnPlan(string Name, ColumnKind Kind, bool Dictionary);

/// <summary>A value later in the file does not fit the inferred types; ingest restarts with <see cref="Plans"/>.</summary>
internal sealed class TypeWideningException(IReadOnlyList<ColumnPlan> plans) : Exception("A column type must widen.")
{
    public IReadOnlyList<ColumnPlan> Plans { get; } = plans;
}

internal static class TypeInference
{
    /// <summary>Infers column kinds over the first <paramref name="sampleRows"/> records of the source.</summary>
    public static List<ColumnPlan> Infer(IRawSource source, int sampleRows)
    {
        var columns = source.ColumnNames.Count;
        var fits = Enumerable.Repeat(ValueParsers.Fits.All, columns).ToArray();
        var nonNull = new int[columns];
        var distinct = Enumerable.Range(0, columns).Select(_ => new HashSet<string>(StringComparer.Ordinal)).ToArray();
        var seen = 0;
        while (seen < sampleRows && source.Next() is { } batch)
        {
            var rows = Math.Min(batch.Rows, sampleRows - seen);
            for (var c = 0; c < columns; c++)
                Observe(batch, c, rows, ref fits[c], ref nonNull[c], distinct[c]);
            seen += rows;
        }
        return [.. Enumerable.Range(0, columns).Select(c => Plan(source.ColumnNames[c], fits[c], nonNull[c], distinct[c].Count))];
    }

    /// <summary>Widens the plans so every value of <paramref name="batch"/> fits.</summary>
    public static List<ColumnPlan> Widen(IReadOnlyList<ColumnPlan> plans, RawBatch batch)
    {
        var result = new List<ColumnPlan>(plans.Count);
        for (var c = 0; c < plans.Count; c++)
        {
            var fits = ValueParsers.Fits.All;
            var nonNull = 0;
            var distinct = new HashSet<string>(StringComparer.Ordinal);
            Observe(batch, c, batch.Rows, ref fits, ref nonNull, distinct);
            var here = nonNull == 0 ? plans[c].Kind : ValueParsers.Narrowest(fits);
            var kind = ColumnKinds.Widen(plans[c].Kind, here);
            // A column that becomes a string keeps dictionary encoding when this batch repeats values.
            var dictionary = plans[c].Kind == ColumnKind.String ? plans[c].Dictionary : distinct.Count * 2 <= Math.Max(1, nonNull);
            result.Add(plans[c] with { Kind = kind, Dictionary = kind == ColumnKind.String && dictionary });
        }
        return result;
    }

    private static void Observe(RawBatch batch, int c, int rows, ref ValueParsers.Fits fits, ref int nonNull, HashSet<string> distinct)
    {
        for (var r = 0; r < rows; r++)
        {
            var i = r * batch.Columns + c;
            var kind = batch.Kinds[i];
            if (kind == FieldKind.Null) continue;
            var value = batch.Data.AsSpan(batch.Starts[i], batch.Lengths[i]);
            if (kind == FieldKind.Text && (ValueParsers.IsNullToken(value) || ValueParsers.IsNaN(value))) continue;
            nonNull++;
            if (distinct.Count < 100_000) distinct.Add(System.Text.Encoding.UTF8.GetString(value));
            if (fits == ValueParsers.Fits.None) continue;
            var valueFits = ValueParsers.Classify(value);
            // A JSON string is text even when it spells a number; only dates and timestamps are read out of it.
            if (kind == FieldKind.JsonString) valueFits &= ValueParsers.Fits.Date | ValueParsers.Fits.Timestamp | ValueParsers.Fits.TimestampTz;
            fits &= valueFits;
        }
    }

    private static ColumnPlan Plan(string name, ValueParsers.Fits fits, int nonNull, int distinct)
    {
        var kind = nonNull == 0 ? ColumnKind.String : ValueParsers.Narrowest(fits);
        return new ColumnPlan(name, kind, kind == ColumnKind.String && distinct * 2 <= Math.Max(1, nonNull));
    }
}
