// Field cuts never split a surrogate pair and flag only what they cut.
using Lookout.Grains.Reports;

namespace Lookout.Grains.Tests;

public sealed class FieldLimitsTests
{
    [Theory]
    [InlineData("abcdef", 10, "abcdef", false)]
    [InlineData("abcdef", 6, "abcdef", false)]
    [InlineData("abcdef", 4, "abcd", true)]
    [InlineData("ab\U0001F600cd", 3, "ab", true)]   // the pair would straddle the cut: both halves go
    [InlineData("ab\U0001F600cd", 4, "ab\U0001F600", true)]
    public void Cut_keeps_whole_characters(string value, int max, string expected, bool truncated)
    {
        var cut = false;
        Assert.Equal(expected, FieldLimits.Cut(value, max, ref cut));
        Assert.Equal(truncated, cut);
    }

    [Fact]
    public void Null_stays_null_and_is_not_flagged()
    {
        var cut = false;
        Assert.Null(FieldLimits.Cut(null, 1, ref cut));
        Assert.False(cut);
    }
}
