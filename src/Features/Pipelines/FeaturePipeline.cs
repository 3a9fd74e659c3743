using System.Diagnostics;
using System.Text.Json.Nodes;
using Cube.Features.Engine;
using Cube.Features.Operators;

namespace Cube.Features.Pipelines;

/// <summary>A step after validation: its operator, and the schemas it reads and writes.</summary>
public sealed class CompiledStep(StepSpec spec, FeatureOperator op, string input)
{
    public StepSpec Spec { get; } = spec;
    public FeatureOperator Operator { get; } = op;
    public string Input { get; } = input;
    /// <summary>The second input of a join, read in full; null for one-input steps.</summary>
    public string? Right => Spec.Right;
    public IEnumerable<string> Parents => Right is null ? [Input] : [Input, Right];
    public string Name => Spec.Name;
    public FrameSchema? InputSchema { get; internal set; }
    public FrameSchema? RightSchema { get; internal set; }
    public FrameSchema? OutputSchema { get; internal set; }
}

/// <summary>What one step did to a batch: rows out and time spent (for previews and run reports).</summary>
public sealed class StepStats
{
    public long Rows { get; set; }
    public TimeSpan Elapsed { get; set; }

    public void Add(StepStats other)
    {
        Rows += other.Rows;
        Elapsed += other.Elapsed;
    }
}

/// <summary>
/// A validated pipeline bound to its input schemas. Steps run in topological order, batch by batch; fitted steps learn
/// their state in passes over the input stream (all steps whose upstream is ready fit in the same pass), and the state
/// is saved as <see cref="FittedState"/> JSON that <see cref="Compile"/> reloads, so batch and online transforms agree.
/// </summary>
public sealed class FeaturePipeline : IDisposable
{
    private readonly Dictionary<string, CompiledStep> _steps;

    private FeaturePipeline(PipelineSpec spec, IReadOnlyDictionary<string, FrameSchema> inputs, List<CompiledStep> order)
    {
        Spec = spec;
        Inputs = inputs;
        Order = order;
        _steps = order.ToDictionary(s => s.Name, StringComparer.Ordinal);
    }

    public PipelineSpec Spec { get; }
    public IReadOnlyDictionary<string, FrameSchema> Inputs { get; }
    /// <summary>Steps in topological order.</summary>
    public IReadOnlyList<CompiledStep> Order { get; }
    public CompiledStep OutputStep => _steps[Spec.Output];
    public FrameSchema OutputSchema => OutputStep.OutputSchema!;
    public bool IsFitted => Order.All(s => s.Operator.IsReady);

    /// <summary>
    /// The input (or reducing step, whose result the steps after it read) that a step's chain starts from: what a batch
    /// or an online row is read as.
    /// </summary>
    public string SourceOf(string step)
    {
        var current = step;
        while (_steps.TryGetValue(current, out var s))
        {
            if (current != step && s.Operator.Reduces) return current;
            current = s.Input;
        }
        return current;
    }

    /// <summary>Where the output's batches come from; a reducing output step is its own source (its result, written once).</summary>
    public string OutputSource => OutputStep.Operator.Reduces ? Spec.Output : SourceOf(Spec.Output);

    /// <summary>The results of reducing steps, computed when the pipeline is fitted.</summary>
    public IReadOnlyDictionary<string, Frame> Reduced =>
        Order.Where(s => s.Operator is GroupByOperator { Result: not null }).ToDictionary(s => s.Name, s => ((GroupByOperator)s.Operator).Result!, StringComparer.Ordinal);

    /// <summary>
    /// A pass over a source: an input's batches (only <paramref name="columns"/> when given), or a reducing step's result
    /// in slices.
    /// </summary>
    private async IAsyncEnumerable<Frame> ReadSource(string source, ReadInput read, IReadOnlyList<string>? columns,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_steps.TryGetValue(source, out var step) && step.Operator is GroupByOperator { Result: { } result })
        {
            foreach (var slice in Slices(result)) yield return slice;
            yield break;
        }
        await foreach (var frame in read(source, columns, cancellationToken).WithCancellation(cancellationToken)) yield return frame;
    }

    /// <summary>A frame in batches of at most 65,536 rows.</summary>
    public static IEnumerable<Frame> Slices(Frame frame, int size = 65_536)
    {
        for (var offset = 0; offset < frame.RowCount; offset += size) yield return frame.Slice(offset, Math.Min(size, frame.RowCount - offset));
    }

    /// <summary>
    /// Validates the spec against the input schemas and binds every step. All problems found are reported together as a
    /// <see cref="PipelineValidationException"/>; a step whose input is invalid is not checked further.
    /// </summary>
    public static FeaturePipeline Compile(PipelineSpec spec, IReadOnlyDictionary<string, FrameSchema> inputs, FittedState? state = null)
    {
        var errors = new List<PipelineError>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var step in spec.Steps)
        {
            if (!names.Add(step.Name)) errors.Add(new PipelineError(step.Name, "name", $"Two steps are named '{step.Name}'."));
            if (spec.Inputs.ContainsKey(step.Name)) errors.Add(new PipelineError(step.Name, "name", $"'{step.Name}' is also the name of an input."));
        }
        foreach (var input in spec.Inputs.Keys)
            if (!inputs.ContainsKey(input)) errors.Add(new PipelineError(null, $"inputs.{input}", $"No schema is known for input '{input}'."));

        var compiled = new Dictionary<string, CompiledStep>(StringComparer.Ordinal);
        foreach (var step in spec.Steps.DistinctBy(s => s.Name))
        {
            if (!OperatorCatalog.Exists(step.Op))
            {
                var match = Suggest.Closest(step.Op, OperatorCatalog.Names);
                errors.Add(new PipelineError(step.Name, "op", match is null ? $"Unknown operator '{step.Op}'." : $"Unknown operator '{step.Op}' (did you mean '{match}'?)."));
                continue;
            }
            if (step.Input is null)
            {
                errors.Add(new PipelineError(step.Name, "input", "The step names no input and there is no previous step or single input to default to."));
                continue;
            }
            if (!names.Contains(step.Input) && !spec.Inputs.ContainsKey(step.Input))
            {
                var match = Suggest.Closest(step.Input, names.Concat(spec.Inputs.Keys));
                errors.Add(new PipelineError(step.Name, "input", match is null ? $"Unknown input '{step.Input}'." : $"Unknown input '{step.Input}' (did you mean '{match}'?)."));
                continue;
            }
            if (OperatorCatalog.IsBinary(step.Op) != step.Right is not null)
            {
                errors.Add(new PipelineError(step.Name, "right", step.Right is null
                    ? $"A {step.Op} step needs 'right': the step or input to join with."
                    : $"Only join steps take 'right'; {step.Op} reads one input."));
                continue;
            }
            if (step.Right is not null && !names.Contains(step.Right) && !spec.Inputs.ContainsKey(step.Right))
            {
                var match = Suggest.Closest(step.Right, names.Concat(spec.Inputs.Keys));
                errors.Add(new PipelineError(step.Name, "right", match is null ? $"Unknown input '{step.Right}'." : $"Unknown input '{step.Right}' (did you mean '{match}'?)."));
                continue;
            }
            try
            {
                compiled[step.Name] = new CompiledStep(step, OperatorCatalog.Create(step.Op, new Params(step.Params)), step.Input);
            }
            catch (StepException e)
            {
                errors.Add(new PipelineError(step.Name, e.Field, e.Message));
            }
        }
        if (!names.Contains(spec.Output)) errors.Add(new PipelineError(null, "output", $"The output '{spec.Output}' is not a step."));

        var order = TopologicalOrder(compiled, errors);
        var broken = new HashSet<string>(StringComparer.Ordinal);
        var deferred = new List<string>();
        foreach (var step in order)
        {
            FrameSchema? SchemaOf(string name) => compiled.TryGetValue(name, out var upstream) ? upstream.OutputSchema : spec.Inputs.ContainsKey(name) ? inputs.GetValueOrDefault(name) : null;
            var input = SchemaOf(step.Input);
            var right = step.Right is null ? null : SchemaOf(step.Right);
            if (input is null || (step.Right is not null && right is null) || step.Parents.Any(broken.Contains))
            {
                broken.Add(step.Name);
                if (step.Parents.Any(deferred.Contains)) deferred.Add(step.Name);
                continue;
            }
            try
            {
                if (state?.Steps.TryGetValue(step.Name, out var saved) == true && saved is not null && step.Operator.IsFitted)
                    step.Operator.LoadState(saved);
                step.InputSchema = input;
                step.RightSchema = right;
                step.OutputSchema = BindStep(step);
            }
            catch (StepException e) when (AwaitsFit(compiled, step))
            {
                // Downstream of a vocabulary not yet learnt: checked again against the fitted schema (see Rebind).
                _ = e;
                deferred.Add(step.Name);
                broken.Add(step.Name);
            }
            catch (StepException e)
            {
                errors.Add(new PipelineError(step.Name, e.Field, e.Message));
                broken.Add(step.Name);
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException or NullReferenceException)
            {
                errors.Add(new PipelineError(step.Name, null, $"The saved fitted state does not fit this step: {e.Message}"));
                broken.Add(step.Name);
            }
        }
        if (errors.Count > 0)
        {
            foreach (var step in compiled.Values) (step.Operator as IDisposable)?.Dispose();
            throw new PipelineValidationException(errors);
        }
        return new FeaturePipeline(spec, inputs, order) { Deferred = deferred };
    }

    private static FrameSchema BindStep(CompiledStep step) => step.Operator is BinaryOperator binary
        ? binary.Bind(step.InputSchema!, step.RightSchema!)
        : step.Operator.Bind(step.InputSchema!);

    private static bool AwaitsFit(Dictionary<string, CompiledStep> steps, CompiledStep step) =>
        Ancestors(steps, step).Any(s => s.Operator.SchemaAwaitsFit);

    /// <summary>Every step upstream of <paramref name="step"/>, through left and right inputs.</summary>
    private static List<CompiledStep> Ancestors(IReadOnlyDictionary<string, CompiledStep> steps, CompiledStep step)
    {
        var found = new List<CompiledStep>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { step.Name };
        var pending = new Stack<string>(step.Parents);
        while (pending.TryPop(out var name))
        {
            if (!seen.Add(name) || !steps.TryGetValue(name, out var upstream)) continue;
            found.Add(upstream);
            foreach (var parent in upstream.Parents) pending.Push(parent);
        }
        return found;
    }

    /// <summary>Steps that read columns a fitted vocabulary will add: validated when the pipeline is fitted.</summary>
    public IReadOnlyList<string> Deferred { get; private init; } = [];

    /// <summary>Steps in dependency order (left and right inputs first); steps on or after a cycle are reported and left out.</summary>
    private static List<CompiledStep> TopologicalOrder(Dictionary<string, CompiledStep> steps, List<PipelineError> errors)
    {
        var order = new List<CompiledStep>();
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 = visiting, 2 = done
        var cyclic = new HashSet<string>(StringComparer.Ordinal);
        foreach (var step in steps.Values) Visit(step, []);
        return order;

        bool Visit(CompiledStep step, List<string> path)
        {
            if (state.GetValueOrDefault(step.Name) == 2) return !cyclic.Contains(step.Name);
            if (state.GetValueOrDefault(step.Name) == 1)
            {
                var cycle = path.SkipWhile(p => p != step.Name).ToList();
                cyclic.UnionWith(cycle);
                errors.Add(new PipelineError(step.Name, "input", $"The steps form a cycle: {string.Join(" → ", cycle.Append(step.Name))}."));
                return false;
            }
            state[step.Name] = 1;
            path.Add(step.Name);
            var ok = true;
            foreach (var parent in step.Parents)
                if (steps.TryGetValue(parent, out var upstream)) ok &= Visit(upstream, path);
            path.RemoveAt(path.Count - 1);
            state[step.Name] = 2;
            if (!ok || cyclic.Contains(step.Name))
            {
                cyclic.Add(step.Name);
                return false;
            }
            order.Add(step);
            return true;
        }
    }

    /// <summary>
    /// Steps the output depends on that cannot transform rows online, with the reason: the online endpoint refuses such
    /// pipelines with 422 rather than answer without the other input or history they need.
    /// </summary>
    public IReadOnlyList<(string Step, string Op, string Reason)> OnlineRefusals() =>
        Ancestors(_steps, OutputStep).Prepend(OutputStep).Where(s => s.Operator.OnlineRefusal is not null)
            .Select(s => (s.Name, s.Spec.Op, s.Operator.OnlineRefusal!)).ToList();

    /// <summary>
    /// Fits every fitted step from the input stream. <paramref name="read"/> opens a fresh pass over an input's batches;
    /// it is called once per pass, and a pass fits every step whose upstream steps are already fitted.
    /// </summary>
    public Task<FittedState> FitAsync(Func<string, CancellationToken, IAsyncEnumerable<Frame>> read, Func<int, long, ValueTask>? progress = null,
        CancellationToken cancellationToken = default) =>
        FitAsync((name, _, ct) => read(name, ct), progress, cancellationToken);

    /// <summary>
    /// Opens a pass over an input's batches. <c>columns</c>, when not null, names the only columns the pass reads (in the
    /// input's order): a reader may leave the others out, and the frames may still hold them.
    /// </summary>
    public delegate IAsyncEnumerable<Frame> ReadInput(string input, IReadOnlyList<string>? columns, CancellationToken cancellationToken);

    /// <summary>
    /// Fits every fitted step from the input stream, reading in each pass only the columns its steps learn from when
    /// they all declare them (<see cref="FeatureOperator.FitReads"/>) and read the source's rows as they are.
    /// </summary>
    public async Task<FittedState> FitAsync(ReadInput read, Func<int, long, ValueTask>? progress = null, CancellationToken cancellationToken = default)
    {
        var pass = 0;
        while (true)
        {
            var joins = Order.Where(s => s.Operator is BinaryOperator { IsBuilt: false } && Ancestors(_steps, s).All(u => u.Operator.IsReady)).ToList();
            foreach (var join in joins) await BuildAsync(join, read, cancellationToken);
            // Every step that can learn now does so in one pass per source: those whose upstream is fitted, those whose
            // fit reads only columns nothing upstream changes (they learn from the source rows), and reducing steps.
            var reducers = Order.Where(s => s.Operator is GroupByOperator { IsReady: false } && Ancestors(_steps, s).All(u => u.Operator.IsReady)).ToList();
            var pending = Order.Where(s => s.Operator is not (BinaryOperator or GroupByOperator) && !s.Operator.IsReady
                && (Ancestors(_steps, s).All(u => u.Operator.IsReady) || FitsOnSource(s))).ToList();
            if (pending.Count == 0 && reducers.Count == 0)
            {
                if (joins.Count == 0) break;
                continue;
            }
            pass++;
            foreach (var source in pending.Concat(reducers).Select(s => SourceOf(s.Name)).Distinct().ToList())
            {
                var fitting = pending.Where(s => SourceOf(s.Name) == source).ToList();
                var onSource = fitting.Where(s => !Ancestors(_steps, s).All(u => u.Operator.IsReady)).ToHashSet();
                var reducing = reducers.Where(s => SourceOf(s.Name) == source).ToList();
                Reset();
                foreach (var reducer in reducing) ((GroupByOperator)reducer.Operator).Begin();
                var rows = 0L;
                await foreach (var frame in ReadSource(source, read, FitColumns(source, fitting.Concat(reducing), onSource), cancellationToken))
                {
                    var outputs = new Dictionary<string, Frame>(StringComparer.Ordinal) { [source] = frame };
                    // The inputs are computed here, in order (steps before may keep history); then each step learns
                    // from its input on its own core, since a step's accumulators are its own and frames are read-only.
                    var learning = new List<(CompiledStep Step, Frame Input)>();
                    foreach (var step in fitting.Concat(reducing))
                    {
                        try
                        {
                            learning.Add((step, onSource.Contains(step) ? frame : Evaluate(step.Input, outputs, null)));
                        }
                        catch (TransformException e)
                        {
                            throw e.After(rows, step.Name);
                        }
                    }
                    if (learning.Count == 1) Learn(learning[0], rows);
                    else
                    {
                        try
                        {
                            var offset = rows;
                            Parallel.ForEach(learning, item => Learn(item, offset));
                        }
                        catch (AggregateException e) when (e.InnerExceptions.OfType<TransformException>().FirstOrDefault() is { } first)
                        {
                            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
                        }
                    }
                    rows += frame.RowCount;
                    if (progress is not null) await progress(pass, rows);
                }
                foreach (var reducer in reducing) ((GroupByOperator)reducer.Operator).Finish();
                // All learn before any re-binds: re-binding a step starts its accumulators afresh.
                foreach (var step in fitting) step.Operator.FinishFit();
                foreach (var step in fitting) Rebind(step);
            }
        }
        // The transform that follows reads the input from its start again.
        Reset();
        return SaveState();
    }

    /// <summary>Starts a new pass over the input: steps that keep history across batches forget it.</summary>
    public void Reset()
    {
        foreach (var step in Order) step.Operator.Reset();
    }

    /// <summary>
    /// The source columns a fit pass needs: those the learning steps read, when each learns from the source's rows as they
    /// are and declares what it reads; null (every column) otherwise.
    /// </summary>
    private IReadOnlyList<string>? FitColumns(string source, IEnumerable<CompiledStep> learning, HashSet<CompiledStep> onSource)
    {
        if (!Inputs.TryGetValue(source, out var schema)) return null;
        var needed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var step in learning)
        {
            if (!(onSource.Contains(step) || step.Input == source) || step.Operator.FitReads is not { } reads || !reads.All(r => schema.Find(r) is not null)) return null;
            needed.UnionWith(reads);
        }
        return needed.Count == 0 ? null : schema.Names.Where(needed.Contains).ToList();
    }

    /// <summary>Reads a join's right side in full (through the steps before it) and hashes it.</summary>
    private async Task BuildAsync(CompiledStep join, ReadInput read, CancellationToken cancellationToken)
    {
        if (_steps.TryGetValue(join.Right!, out var right) && right.Operator is GroupByOperator { Result: { } reduced })
        {
            ((BinaryOperator)join.Operator).Build(reduced);
            return;
        }
        var source = SourceOf(join.Right!);
        Reset();
        var frames = new List<Frame>();
        await foreach (var frame in ReadSource(source, read, null, cancellationToken))
        {
            var outputs = new Dictionary<string, Frame>(StringComparer.Ordinal) { [source] = frame };
            try
            {
                frames.Add(Evaluate(join.Right!, outputs, null));
            }
            catch (TransformException e) when (e.Step is null)
            {
                throw new TransformException(e.Message, e.Column, e.Row) { Step = join.Name };
            }
        }
        var schema = join.RightSchema!;
        ((BinaryOperator)join.Operator).Build(frames.Count == 0 ? Frame.Empty(schema) : frames.Count == 1 ? frames[0] : Frame.Concat(schema, frames));
    }

    /// <summary>One step learns from one batch; a failure names the step and its row counted from the pass's first batch.</summary>
    private static void Learn((CompiledStep Step, Frame Input) item, long rows)
    {
        try
        {
            if (item.Step.Operator is GroupByOperator reducer) reducer.Absorb(item.Input);
            else item.Step.Operator.Accumulate(item.Input);
        }
        catch (TransformException e)
        {
            throw e.After(rows, item.Step.Name);
        }
    }

    /// <summary>
    /// True when every step between the step's source and the step keeps all rows in order and none changes a column the
    /// step's fit reads: the fit then learns from the source rows as they are, without waiting for those steps' fits.
    /// </summary>
    private bool FitsOnSource(CompiledStep step)
    {
        if (step.Operator.FitReads is not { } reads || step.InputSchema is null) return false;
        var source = SourceOf(step.Name);
        // A reducing source is read through its result, which it has only once it has reduced.
        if (_steps.TryGetValue(source, out var reducer) && !reducer.Operator.IsReady) return false;
        var name = step.Input;
        while (name != source)
        {
            if (!_steps.TryGetValue(name, out var upstream)) return false;
            if (upstream.Operator is BinaryOperator || upstream.Operator.Reduces || Changes(upstream) is not { } changed || reads.Any(changed.Contains)) return false;
            name = upstream.Input;
        }
        return true;
    }

    /// <summary>The columns a row-keeping step adds, removes or replaces; null when it may change rows or does not say.</summary>
    private static HashSet<string>? Changes(CompiledStep step)
    {
        if (step.Operator.ReplacesInPlace is not { } replaced || step.InputSchema is null || step.OutputSchema is null) return null;
        var changed = new HashSet<string>(replaced, StringComparer.Ordinal);
        foreach (var name in step.InputSchema.Names) if (step.OutputSchema.Find(name) is null) changed.Add(name);
        foreach (var name in step.OutputSchema.Names) if (step.InputSchema.Find(name) is null) changed.Add(name);
        return changed;
    }

    /// <summary>Re-binds the steps downstream of a newly fitted one (a fitted vocabulary can add columns).</summary>
    private void Rebind(CompiledStep fitted)
    {
        var changed = new HashSet<string>(StringComparer.Ordinal) { fitted.Name };
        fitted.OutputSchema = BindStep(fitted);
        foreach (var step in Order)
        {
            if (!step.Parents.Any(changed.Contains) || step == fitted) continue;
            changed.Add(step.Name);
            step.InputSchema = _steps.TryGetValue(step.Input, out var left) ? left.OutputSchema : Inputs[step.Input];
            if (step.Right is not null) step.RightSchema = _steps.TryGetValue(step.Right, out var right) ? right.OutputSchema : Inputs[step.Right];
            if (step.InputSchema is null || (step.Right is not null && step.RightSchema is null))
            {
                step.OutputSchema = null;
                continue;
            }
            try
            {
                step.OutputSchema = BindStep(step);
            }
            catch (StepException) when (AwaitsFit(_steps, step))
            {
                step.OutputSchema = null;
            }
            catch (StepException e)
            {
                throw new PipelineValidationException([new PipelineError(step.Name, e.Field, $"After fitting '{fitted.Name}': {e.Message}")]);
            }
        }
    }

    public FittedState SaveState() => new(
        FittedState.CurrentFormat,
        Inputs.ToDictionary(i => i.Key, i => (IReadOnlyList<FieldDef>)i.Value.Fields.ToList()),
        Order.Where(s => s.Operator.IsFitted).ToDictionary(s => s.Name, s => s.Operator.State));

    /// <summary>True when no step of the output's chain carries state from batch to batch, so batches may transform at once.</summary>
    public bool TransformsInParallel => !Ancestors(_steps, OutputStep).Prepend(OutputStep).Any(s => s.Operator.CarriesStateAcrossBatches);

    /// <summary>
    /// Transforms every batch of the output's source into a Parquet sink, in order. Where <see cref="TransformsInParallel"/>
    /// the transforms (and their conversion to Arrow) run on the thread pool, several at once, while this thread reads on;
    /// otherwise each batch is transformed here and only its conversion moves to the pool. A failure names its row
    /// counted from the first batch. Returns the rows read; the rows written are the sink's to count, once it has
    /// written the last batch (transforms may still be running when this returns).
    /// </summary>
    public async Task<long> TransformIntoAsync(IAsyncEnumerable<Frame> batches, DataHub.Tables.BatchSink sink,
        IDictionary<string, StepStats>? stats, Func<long, ValueTask>? progress, CancellationToken cancellationToken)
    {
        var parallel = TransformsInParallel;
        long read = 0;
        await foreach (var frame in batches.WithCancellation(cancellationToken))
        {
            var offset = read;
            read += frame.RowCount;
            if (parallel)
            {
                await sink.WriteAsync(() =>
                {
                    var local = stats is null ? null : new Dictionary<string, StepStats>(StringComparer.Ordinal);
                    var result = TransformAt(frame, offset, local);
                    if (local is not null)
                        lock (stats!)
                            foreach (var (name, s) in local) (stats.TryGetValue(name, out var total) ? total : stats[name] = new StepStats()).Add(s);
                    return ArrowFrames.ToRecordBatch(result);
                }, cancellationToken);
            }
            else
            {
                var result = TransformAt(frame, offset, stats);
                if (result.RowCount > 0) await sink.WriteAsync(() => ArrowFrames.ToRecordBatch(result), cancellationToken);
            }
            if (progress is not null) await progress(read);
        }
        return read;
    }

    private Frame TransformAt(Frame frame, long offset, IDictionary<string, StepStats>? stats)
    {
        try
        {
            return Transform(frame, stats);
        }
        catch (TransformException e)
        {
            throw e.After(offset);
        }
    }

    /// <summary>Transforms one batch of the output's source through the output's chain.</summary>
    public Frame Transform(Frame source, IDictionary<string, StepStats>? stats = null)
    {
        if (!IsFitted) throw new InvalidOperationException("The pipeline is not fitted.");
        var outputs = new Dictionary<string, Frame>(StringComparer.Ordinal) { [OutputSource] = source };
        return Evaluate(Spec.Output, outputs, stats);
    }

    /// <summary>Transforms a batch through every step reachable from its source, keeping each step's output (for previews).</summary>
    public IReadOnlyDictionary<string, Frame> TransformAll(string source, Frame frame, IDictionary<string, StepStats> stats)
    {
        var outputs = new Dictionary<string, Frame>(StringComparer.Ordinal) { [source] = frame };
        foreach (var step in Order.Where(s => SourceOf(s.Name) == source)) Evaluate(step.Name, outputs, stats);
        return outputs;
    }

    private Frame Evaluate(string name, Dictionary<string, Frame> outputs, IDictionary<string, StepStats>? stats)
    {
        if (outputs.TryGetValue(name, out var done)) return done;
        var step = _steps[name];
        if (step.Operator is GroupByOperator { Result: { } reduced })
        {
            // A reducing step's output is its result, computed once over its whole input.
            if (stats is not null) (stats.TryGetValue(name, out var s) ? s : stats[name] = new StepStats()).Rows += reduced.RowCount;
            return outputs[name] = reduced;
        }
        var input = Evaluate(step.Input, outputs, stats);
        var clock = stats is null ? 0 : Stopwatch.GetTimestamp();
        Frame output;
        try
        {
            output = step.Operator.Transform(input);
        }
        catch (TransformException e) when (e.Step is null)
        {
            throw new TransformException(e.Message, e.Column, e.Row) { Step = step.Name };
        }
        if (stats is not null)
        {
            if (!stats.TryGetValue(name, out var s)) stats[name] = s = new StepStats();
            s.Rows += output.RowCount;
            s.Elapsed += Stopwatch.GetElapsedTime(clock);
        }
        outputs[name] = output;
        return output;
    }

    public void Dispose()
    {
        foreach (var step in Order) (step.Operator as IDisposable)?.Dispose();
    }
}

/// <summary>
/// The learnt state of a fitted pipeline, saved as versioned JSON: the input schemas it was fitted on and each fitted
/// step's state. Reloading it with the same spec reproduces the transform exactly.
/// </summary>
public sealed record FittedState(int Format, IReadOnlyDictionary<string, IReadOnlyList<FieldDef>> Inputs, IReadOnlyDictionary<string, JsonNode?> Steps)
{
    public const int CurrentFormat = 1;

    /// <summary>The placeholder values of the run that fitted this state; online transforms render the spec with them.</summary>
    public RunValues? Values { get; init; }

    public IReadOnlyDictionary<string, FrameSchema> InputSchemas() => Inputs.ToDictionary(i => i.Key, i => new FrameSchema(i.Value));

    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, Operators.StateJson.Options);

    public static FittedState FromJson(string json)
    {
        var state = System.Text.Json.JsonSerializer.Deserialize<FittedState>(json, Operators.StateJson.Options)
            ?? throw new InvalidOperationException("The fitted state is empty.");
        if (state.Format != CurrentFormat) throw new InvalidOperationException($"Fitted state format {state.Format} is not supported (expected {CurrentFormat}).");
        return state;
    }
}
