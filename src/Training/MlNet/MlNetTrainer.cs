using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Cube.Training.MlNet;

/// <summary>A column of a model's input or output: name and type (the table's Arrow type for inputs, ML.NET's for outputs).</summary>
public sealed record SignatureColumn(string Name, string Type);

public sealed record ModelSignature(IReadOnlyList<SignatureColumn> Inputs, IReadOnlyList<SignatureColumn> Outputs);

public sealed record TrainingOutcome(IReadOnlyDictionary<string, double> Metrics, ModelSignature Signature, int TrainRows, int ValidationRows);

/// <summary>
/// Trains one ML.NET model on the rows of a <see cref="ColumnStore"/>: a seeded train/validation split, a featurisation
/// pipeline (numbers as they are, strings one-hot, a text column featurised), the chosen trainer, evaluation on the
/// validation rows, and the fitted transformer chain saved as an ML.NET .zip that takes the feature columns.
/// </summary>
internal static class MlNetTrainer
{
    public const string FeaturesColumn = "__features";
    public const string KeyLabelColumn = "__label";
    /// <summary>Most distinct values a categorical column is one-hot encoded with; rarer ones become "missing".</summary>
    public const int MaxCategories = 1000;

    public static TrainingOutcome Train(MLContext ml, ColumnStore store, MlNetSettings settings, IReadOnlyList<FeatureColumn> features, string modelPath, Action<string> log)
    {
        var (trainRows, validationRows) = Split(store.Rows, settings.ValidationFraction, settings.Seed);
        if (trainRows.Length == 0 || validationRows.Length == 0)
            throw new TrainingDataException($"The table has {store.Rows} labelled rows: too few to split into training and validation rows.");
        log($"{store.Rows} labelled rows: {trainRows.Length} for training, {validationRows.Length} for validation (seed {settings.Seed})");
        IDataView train = store.View(trainRows);
        IDataView validation = store.View(validationRows);
        var label = settings.Label;
        if (settings.Task == MlTask.MulticlassClassification)
        {
            // The class-to-key mapping is fitted apart from the saved chain, so scoring needs no label column.
            var keys = ml.Transforms.Conversion.MapValueToKey(KeyLabelColumn, label).Fit(train);
            train = keys.Transform(train);
            validation = keys.Transform(validation);
            label = KeyLabelColumn;
        }

        IEstimator<ITransformer> pipeline = new EstimatorChain<ITransformer>();
        var parts = new List<string>();
        foreach (var feature in features)
        {
            switch (feature.Kind)
            {
                case FeatureKind.Numeric:
                    parts.Add(feature.Name);
                    break;
                case FeatureKind.Categorical:
                    pipeline = pipeline.Append(ml.Transforms.Categorical.OneHotEncoding("__onehot_" + feature.Name, feature.Name, maximumNumberOfKeys: MaxCategories));
                    parts.Add("__onehot_" + feature.Name);
                    break;
                case FeatureKind.Text:
                    pipeline = pipeline.Append(ml.Transforms.Text.FeaturizeText("__text_" + feature.Name, feature.Name));
                    parts.Add("__text_" + feature.Name);
                    break;
            }
        }
        pipeline = pipeline.Append(ml.Transforms.Concatenate(FeaturesColumn, [.. parts]));
        if (settings.Trainer == MlTrainer.Sdca)
        {
            // SDCA is a linear learner: missing values would poison it and unscaled columns slow its convergence.
            // It also passes over the data once per epoch: the cache keeps the featurised rows instead of recomputing them.
            pipeline = pipeline.Append(ml.Transforms.ReplaceMissingValues(FeaturesColumn))
                .Append(ml.Transforms.NormalizeMinMax(FeaturesColumn))
                .AppendCacheCheckpoint(ml);
        }
        pipeline = pipeline.Append(Trainer(ml, settings, label));

        log($"training {MlNetSettings.TaskName(settings.Task)} with {settings.Trainer} on {features.Count} feature columns");
        ITransformer model = pipeline.Fit(train);
        log("evaluating on the validation rows");
        var scored = model.Transform(validation);
        var metrics = Evaluate(ml, settings.Task, scored, label);
        if (settings.Task == MlTask.MulticlassClassification)
        {
            // Evaluation needs predicted keys; the saved model answers with the class values themselves.
            var values = ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(scored);
            model = new TransformerChain<ITransformer>(model, values);
            scored = values.Transform(scored);
        }

        var inputs = store.View([], features.Select(f => f.Name).ToHashSet(StringComparer.Ordinal));
        ml.Model.Save(model, inputs.Schema, modelPath);
        var outputs = new[] { "PredictedLabel", "Score", "Probability" }
            .Select(name => scored.Schema.GetColumnOrNull(name))
            .Where(c => c is not null)
            .Select(c => new SignatureColumn(c!.Value.Name, c.Value.Type.ToString() ?? ""))
            .ToList();
        var signature = new ModelSignature(features.Select(f => new SignatureColumn(f.Name, f.ArrowType)).ToList(), outputs);
        return new TrainingOutcome(metrics, signature, trainRows.Length, validationRows.Length);
    }

    /// <summary>Each row goes to validation with probability <paramref name="fraction"/>, decided by a generator seeded with <paramref name="seed"/>.</summary>
    public static (int[] Train, int[] Validation) Split(int rows, double fraction, int seed)
    {
        var random = new Random(seed);
        var train = new List<int>(rows);
        var validation = new List<int>((int)(rows * fraction) + 1);
        for (var i = 0; i < rows; i++) (random.NextDouble() < fraction ? validation : train).Add(i);
        return (train.ToArray(), validation.ToArray());
    }

    private static IEstimator<ITransformer> Trainer(MLContext ml, MlNetSettings s, string label)
    {
        return (s.Task, s.Trainer) switch
        {
            (MlTask.BinaryClassification, MlTrainer.FastTree) => ml.BinaryClassification.Trainers.FastTree(FastTree<FastTreeBinaryTrainer.Options>(s, label)),
            (MlTask.BinaryClassification, MlTrainer.LightGbm) => ml.BinaryClassification.Trainers.LightGbm(LightGbmBinary(s, label)),
            (MlTask.BinaryClassification, _) => ml.BinaryClassification.Trainers.SdcaLogisticRegression(SdcaBinary(s, label)),
            (MlTask.MulticlassClassification, MlTrainer.FastTree) => ml.MulticlassClassification.Trainers.OneVersusAll(
                ml.BinaryClassification.Trainers.FastTree(FastTree<FastTreeBinaryTrainer.Options>(s, label)), label),
            (MlTask.MulticlassClassification, MlTrainer.LightGbm) => ml.MulticlassClassification.Trainers.LightGbm(LightGbmMulticlass(s, label)),
            (MlTask.MulticlassClassification, _) => ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(SdcaMulticlass(s, label)),
            (_, MlTrainer.FastTree) => ml.Regression.Trainers.FastTree(FastTree<FastTreeRegressionTrainer.Options>(s, label)),
            (_, MlTrainer.LightGbm) => ml.Regression.Trainers.LightGbm(LightGbmRegression(s, label)),
            _ => ml.Regression.Trainers.Sdca(SdcaRegression(s, label)),
        };
    }

    // One thread makes SDCA's result a function of the seed (its parallel updates race by design).
    private static SdcaLogisticRegressionBinaryTrainer.Options SdcaBinary(MlNetSettings s, string label) => new()
    {
        LabelColumnName = label, FeatureColumnName = FeaturesColumn, MaximumNumberOfIterations = s.Iterations, NumberOfThreads = 1,
    };

    private static SdcaMaximumEntropyMulticlassTrainer.Options SdcaMulticlass(MlNetSettings s, string label) => new()
    {
        LabelColumnName = label, FeatureColumnName = FeaturesColumn, MaximumNumberOfIterations = s.Iterations, NumberOfThreads = 1,
    };

    private static SdcaRegressionTrainer.Options SdcaRegression(MlNetSettings s, string label) => new()
    {
        LabelColumnName = label, FeatureColumnName = FeaturesColumn, MaximumNumberOfIterations = s.Iterations, NumberOfThreads = 1,
    };

    private static T FastTree<T>(MlNetSettings s, string label) where T : BoostedTreeOptions, new() => new()
    {
        LabelColumnName = label,
        FeatureColumnName = FeaturesColumn,
        NumberOfTrees = s.Trees,
        NumberOfLeaves = s.Leaves,
        LearningRate = s.LearningRate ?? 0.2,
        Seed = s.Seed,
        // One thread per core would compete with the server's request threads; two keep a job from starving them.
        NumberOfThreads = Math.Max(1, Math.Min(Environment.ProcessorCount, 4)),
    };

    private static LightGbmBinaryTrainer.Options LightGbmBinary(MlNetSettings s, string label) => new()
    {
        LabelColumnName = label, FeatureColumnName = FeaturesColumn, NumberOfIterations = s.Trees, NumberOfLeaves = s.Leaves, LearningRate = s.LearningRate, Seed = s.Seed,
    };

    private static LightGbmMulticlassTrainer.Options LightGbmMulticlass(MlNetSettings s, string label) => new()
    {
        LabelColumnName = label, FeatureColumnName = FeaturesColumn, NumberOfIterations = s.Trees, NumberOfLeaves = s.Leaves, LearningRate = s.LearningRate, Seed = s.Seed,
    };

    private static LightGbmRegressionTrainer.Options LightGbmRegression(MlNetSettings s, string label) => new()
    {
        LabelColumnName = label, FeatureColumnName = FeaturesColumn, NumberOfIterations = s.Trees, NumberOfLeaves = s.Leaves, LearningRate = s.LearningRate, Seed = s.Seed,
    };

    private static Dictionary<string, double> Evaluate(MLContext ml, MlTask task, IDataView scored, string label)
    {
        switch (task)
        {
            case MlTask.BinaryClassification:
                var b = ml.BinaryClassification.Evaluate(scored, label);
                return new() { ["auc"] = b.AreaUnderRocCurve, ["accuracy"] = b.Accuracy, ["f1"] = b.F1Score, ["log_loss"] = b.LogLoss };
            case MlTask.MulticlassClassification:
                var m = ml.MulticlassClassification.Evaluate(scored, label, predictedLabelColumnName: "PredictedLabel");
                return new() { ["macro_accuracy"] = m.MacroAccuracy, ["micro_accuracy"] = m.MicroAccuracy, ["log_loss"] = m.LogLoss };
            default:
                var r = ml.Regression.Evaluate(scored, label);
                return new() { ["rmse"] = r.RootMeanSquaredError, ["mae"] = r.MeanAbsoluteError, ["r2"] = r.RSquared };
        }
    }
}
