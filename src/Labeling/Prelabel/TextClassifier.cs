using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace Cube.Labeling.Prelabel;

/// <summary>A class and the model's probability for it.</summary>
public readonly record struct ClassScore(string Label, double Probability);

/// <summary>
/// The built-in text pre-labeler: text featurised into word and character n-grams (ML.NET <c>FeaturizeText</c>) and a
/// multinomial logistic regression trained by SDCA (<c>SdcaMaximumEntropy</c>). Multi-label examples count once per
/// label, so the model learns which label is likeliest; the pre-label is that one label. Training is seeded and
/// single-threaded, so the same labels give the same model.
/// </summary>
public sealed class TextClassifier
{
    private const int Seed = 20261202;
    private readonly MLContext _ml;
    private readonly ITransformer _model;
    private readonly string[] _classes;

    private TextClassifier(MLContext ml, ITransformer model, string[] classes)
    {
        _ml = ml;
        _model = model;
        _classes = classes;
    }

    public IReadOnlyList<string> Classes => _classes;

    public static TextClassifier Train(IReadOnlyList<LabeledText> examples)
    {
        var ml = new MLContext(Seed);
        var rows = examples.SelectMany(e => e.Labels.Select(l => new Example { Text = e.Text, Label = l })).ToList();
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", "Label")
            .Append(ml.Transforms.Text.FeaturizeText("Features", "Text"))
            // SDCA passes over the data once per epoch: the cache keeps the featurised rows instead of recomputing them.
            .AppendCacheCheckpoint(ml)
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
            {
                LabelColumnName = "Label", FeatureColumnName = "Features", NumberOfThreads = 1,
            }));
        var model = pipeline.Fit(data);
        // Score[i] is the probability of the i-th key of the label column, whose key values are the class names.
        VBuffer<ReadOnlyMemory<char>> keys = default;
        model.GetOutputSchema(data.Schema)["Label"].GetKeyValues(ref keys);
        return new TextClassifier(ml, model, [.. keys.DenseValues().Select(k => k.ToString())]);
    }

    /// <summary>Every class's probability for each text, highest first, in the order of the texts.</summary>
    public List<ClassScore[]> Predict(IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) return [];
        var scored = _model.Transform(_ml.Data.LoadFromEnumerable(texts.Select(t => new Example { Text = t, Label = _classes[0] })));
        return [.. _ml.Data.CreateEnumerable<Scored>(scored, reuseRowObject: false)
            .Select(s => s.Score.Select((p, i) => new ClassScore(_classes[i], Math.Clamp(p, 0, 1))).OrderByDescending(c => c.Probability).ToArray())];
    }

    /// <summary>
    /// Accuracy on examples held out of training: a seeded fifth of the tasks (at least 2), when there are at least
    /// <paramref name="minimum"/> and the rest still hold two classes; null otherwise. A prediction is right when its
    /// top class is one of the task's labels.
    /// </summary>
    public static (int HeldOut, double? Accuracy) HeldOutAccuracy(IReadOnlyList<LabeledText> examples, int minimum = 10)
    {
        if (examples.Count < minimum) return (0, null);
        var shuffled = examples.OrderBy(e => e.TaskId).ToArray();
        new Random(Seed).Shuffle(shuffled);
        var heldOut = Math.Max(2, shuffled.Length / 5);
        var test = shuffled[..heldOut];
        var train = shuffled[heldOut..];
        if (train.SelectMany(e => e.Labels).Distinct(StringComparer.Ordinal).Count() < 2) return (0, null);
        var predictions = Train(train).Predict([.. test.Select(e => e.Text)]);
        var right = test.Zip(predictions).Count(x => x.First.Labels.Contains(x.Second[0].Label, StringComparer.Ordinal));
        return (heldOut, (double)right / heldOut);
    }

    private sealed class Example
    {
        public string Text { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private sealed class Scored
    {
        public float[] Score { get; set; } = [];
    }
}
