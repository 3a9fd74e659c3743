using Cube.Labeling.Prelabel;

namespace Cube.Labeling.Tests.Prelabel;

public sealed class TrainingLabelsTests
{
    private static readonly Dictionary<string, int> Order = new(StringComparer.Ordinal) { ["cat"] = 0, ["dog"] = 1, ["bird"] = 2 };

    [Fact]
    public void Majority_TakesTheMostChosenLabel_AndBreaksTiesByConfigurationOrder_WhenSingleLabel()
    {
        Assert.Equal(["dog"], TrainingLabels.Majority([["dog"], ["cat"], ["dog"]], false, Order));
        Assert.Equal(["cat"], TrainingLabels.Majority([["dog"], ["cat"]], false, Order));
        Assert.Empty(TrainingLabels.Majority([], false, Order));
    }

    [Fact]
    public void Majority_KeepsEveryLabelAtLeastHalfChose_WhenMultiLabel()
    {
        Assert.Equal(["cat", "dog"], TrainingLabels.Majority([["cat", "dog"], ["cat"], ["dog", "bird"], ["cat", "dog"]], true, Order));
        Assert.Equal(["bird"], TrainingLabels.Majority([["bird", "bird"], ["cat"], ["bird"]], true, Order));
    }
}
