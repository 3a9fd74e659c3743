using System.Text.Json.Nodes;
using Cube.Features.Engine;

namespace Cube.Features.Operators;

/// <summary>A problem with one field of a step's parameters, found while binding the step to its input schema.</summary>
public sealed class StepException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}

/// <summary>A failure while transforming data, naming the step, column and row it applies to.</summary>
public sealed class TransformException(string message, string? column, long? row) : Exception(message)
{
    public string? Step { get; init; }
    public string? Column { get; } = column;
    public long? Row { get; } = row;

    /// <summary>The same failure with its row counted from <paramref name="rows"/> rows earlier (a batch's start), naming <paramref name="step"/> when no step is named yet.</summary>
    public TransformException After(long rows, string? step = null) => new(Message, Column, Row + rows) { Step = Step ?? step };
}

/// <summary>
/// One step of a feature pipeline. <see cref="Bind"/> checks the parameters against the input schema and declares the
/// output schema; fitted operators learn their state from the whole input stream (<see cref="Accumulate"/> per batch,
/// then <see cref="FinishFit"/>), and that state round-trips through JSON (<see cref="LoadState"/>) so a reloaded
/// pipeline transforms exactly as the fitted one did.
/// </summary>
public abstract class FeatureOperator
{
    private FrameSchema? _input;

    public abstract string Kind { get; }

    public virtual bool IsFitted => false;

    /// <summary>True once the state is known (always for operators that are not fitted).</summary>
    public virtual bool IsReady => !IsFitted || HasState;

    /// <summary>
    /// Why this step cannot transform rows online (it needs another input or the rows' history), or null when it can:
    /// the online endpoint answers 422 with the reason instead of a wrong row.
    /// </summary>
    public virtual string? OnlineRefusal => null;

    protected abstract bool HasState { get; }

    /// <summary>True when the output columns are only known once fitted (a learnt vocabulary adds columns).</summary>
    public virtual bool SchemaAwaitsFit => false;

    public FrameSchema Input => _input ?? throw new InvalidOperationException("The operator is not bound.");

    /// <summary>Validates the parameters against the input and returns the output schema. Throws <see cref="StepException"/>.</summary>
    public FrameSchema Bind(FrameSchema input)
    {
        _input = input;
        return BindCore(input);
    }

    protected abstract FrameSchema BindCore(FrameSchema input);

    public abstract Frame Transform(Frame input);

    public virtual void Accumulate(Frame input) { }

    /// <summary>
    /// The input columns <see cref="Accumulate"/> reads, or null when not declared. A fit that reads only columns no step
    /// before it changes learns from the source rows directly, in the same pass as the steps before it.
    /// </summary>
    public virtual IReadOnlyCollection<string>? FitReads => null;

    /// <summary>
    /// For a step that keeps every row, in order: the input columns whose values it replaces under the same name (the
    /// columns it adds or removes are read off its schemas). Null for steps that filter, reorder or add rows, or that
    /// do not declare it.
    /// </summary>
    public virtual IReadOnlyCollection<string>? ReplacesInPlace => null;

    /// <summary>Forgets what earlier batches left behind (history kept across batches); called before every pass over the input.</summary>
    public virtual void Reset() { }

    /// <summary>
    /// True when a batch's transform depends on the batches before it (history) or uses a resource one caller at a time
    /// (an embedded database connection): a pipeline with such a step transforms its batches in order on one thread;
    /// others transform several batches at once.
    /// </summary>
    public virtual bool CarriesStateAcrossBatches => false;

    /// <summary>True for reducing steps (group-by): their whole output is computed at fit time and read as a source by the steps after them.</summary>
    public virtual bool Reduces => false;

    /// <summary>Ends fitting and returns the learnt state (also kept as <see cref="State"/>).</summary>
    public JsonNode? FinishFit()
    {
        State = FinishFitCore()?.DeepClone();
        return State;
    }

    /// <summary>Restores state saved by <see cref="FinishFit"/>.</summary>
    public void LoadState(JsonNode state)
    {
        LoadStateCore(state);
        State = state.DeepClone();
    }

    /// <summary>The fitted state as JSON, null until fitted or loaded.</summary>
    public JsonNode? State { get; private set; }

    protected virtual JsonNode? FinishFitCore() => null;

    protected virtual void LoadStateCore(JsonNode state) { }

    protected static FieldDef RequireColumn(FrameSchema schema, string name, string field, params DataKind[] kinds)
    {
        var column = schema.Find(name) ?? throw new StepException(field, Suggest.UnknownColumn(name, schema));
        if (kinds.Length > 0 && !kinds.Contains(column.Kind))
            throw new StepException(field, $"Column '{name}' is {column.Kind}; this step needs {string.Join(" or ", kinds)}.");
        return column;
    }

    protected static FrameSchema Replace(FrameSchema schema, IEnumerable<FieldDef> fields)
    {
        var list = schema.Fields.ToList();
        foreach (var field in fields)
        {
            var index = list.FindIndex(f => f.Name == field.Name);
            if (index >= 0) list[index] = field;
            else list.Add(field);
        }
        return new FrameSchema(list);
    }
}
