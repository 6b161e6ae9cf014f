// How much of an application's history one suggestion or simulation may read.
namespace Lookout.Api.Policy;

/// <summary>Bounds of the policy tools, bound from <c>Lookout:Policy</c>.</summary>
public sealed class PolicyOptions
{
    /// <summary>Default for <see cref="MaxReports"/>.</summary>
    public const int DefaultMaxReports = 1_000_000;
    /// <summary>Default for <see cref="TimeBudget"/>.</summary>
    public static readonly TimeSpan DefaultTimeBudget = TimeSpan.FromSeconds(8);
    /// <summary>Longest draft policy <c>simulate</c> accepts, in characters.</summary>
    public const int MaxPolicyLength = 16 * 1024;
    /// <summary>Largest <c>simulate</c> request body, in bytes.</summary>
    public const int MaxBodyBytes = 64 * 1024;
    /// <summary>Default window of both tools.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(7);

    /// <summary>Most reports one suggestion or simulation reads, newest first; a request's <c>limit</c> may
    /// lower it. The answer's <c>coverage</c> says when it stopped short of the window.</summary>
    public int MaxReports { get; set; } = DefaultMaxReports;

    /// <summary>Longest one suggestion or simulation reads before it answers with what it covered so far
    /// (checked between pages of <see cref="PolicyScan.PageSize"/> reports).</summary>
    public TimeSpan TimeBudget { get; set; } = DefaultTimeBudget;
}
