// The part of a stored CSP report the policy tools read, streamed from storage newest first.
namespace Lookout.Grains.Policy;

/// <summary>One stored CSP report, reduced to what suggestion and simulation need.</summary>
/// <param name="Id">Report id.</param>
/// <param name="ReceivedAt">When Lookout received it.</param>
/// <param name="Directive">Effective directive.</param>
/// <param name="Blocked">Blocked value as stored.</param>
/// <param name="BlockedHost">Lookout's normalized blocked host (for grouping).</param>
/// <param name="DocumentUrl">The page's URL.</param>
/// <param name="Path">The page's path.</param>
/// <param name="Classification">Lookout's classification.</param>
/// <param name="Disposition"><c>enforce</c>, <c>report</c> or <c>unknown</c>.</param>
/// <param name="NoiseReason">Noise verdict, or null.</param>
/// <param name="Truncated">Whether a field was cut.</param>
/// <param name="Sample">The first characters of inline code, when the policy asked for them.</param>
public sealed record PolicyReport(Guid Id, DateTimeOffset ReceivedAt, string? Directive, string? Blocked, string? BlockedHost, string? DocumentUrl,
    string? Path, string? Classification, string Disposition, string? NoiseReason, bool Truncated, string? Sample)
{
    /// <summary>The report as the matcher reads it; null without a directive.</summary>
    public PolicyViolation? Violation => Directive is null ? null : new PolicyViolation(Directive, Blocked, DocumentUrl, Classification, Truncated);
}
