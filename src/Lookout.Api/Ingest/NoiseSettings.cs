// Noise configuration (section Lookout:Noise), validated at start-up and turned into pure options.
using System.Text.RegularExpressions;
using Lookout.Grains.Reports.Noise;
using Microsoft.Extensions.Options;

namespace Lookout.Api.Ingest;

/// <summary>How operators tune the noise rules, bound from <c>Lookout:Noise</c>.</summary>
public sealed partial class NoiseSettings
{
    /// <summary>Minimum major version per uap-core browser family, merged over
    /// <see cref="NoiseOptions.DefaultMinimumVersions"/>; 0 switches a family's check off.</summary>
    public Dictionary<string, int> MinimumVersions { get; set; } = [];

    /// <summary>Built-in rules to run in dry-run mode: they record what they would drop and drop nothing.</summary>
    public List<string> DryRun { get; set; } = [];

    /// <summary>Operator rules, tried in order after the built-in ones.</summary>
    public List<NoiseRuleSettings> Rules { get; set; } = [];

    /// <summary>Problems that make the configuration unusable, empty when valid.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var name in DryRun.Where(n => !NoiseReasons.BuiltIn.Contains(n)))
            yield return $"Lookout:Noise:DryRun names '{name}', which is not a built-in rule ({string.Join(", ", NoiseReasons.BuiltIn)}).";
        foreach (var rule in Rules)
        {
            if (rule.Name is null || !RuleName().IsMatch(rule.Name) || NoiseReasons.BuiltIn.Contains(rule.Name))
                yield return $"Noise rule name '{rule.Name}' must be 1-64 characters of a-z, 0-9, '_', '.', '-' and not a built-in reason.";
            if (string.IsNullOrEmpty(rule.BlockedHost) && string.IsNullOrEmpty(rule.Url) && string.IsNullOrEmpty(rule.SourceFile))
                yield return $"Noise rule '{rule.Name}' needs at least one of BlockedHost, Url, SourceFile.";
        }
        if (Rules.GroupBy(r => r.Name).Any(g => g.Count() > 1)) yield return "Noise rule names must be unique.";
    }

    /// <summary>The pure options the pipeline takes.</summary>
    public NoiseOptions ToOptions()
    {
        var minimum = new Dictionary<string, int>(NoiseOptions.DefaultMinimumVersions, StringComparer.Ordinal);
        foreach (var (family, version) in MinimumVersions) minimum[family] = version;
        return new NoiseOptions
        {
            MinimumVersions = minimum,
            DryRun = DryRun.ToHashSet(StringComparer.Ordinal),
            Rules = [.. Rules.Select(r => new CustomNoiseRule(r.Name!, r.Apps, r.BlockedHost, r.Url, r.SourceFile, r.DryRun))],
        };
    }

    [GeneratedRegex("^[a-z0-9_.-]{1,64}$")]
    private static partial Regex RuleName();
}

/// <summary>One operator noise rule. Every pattern given must match; <c>*</c> matches anything.</summary>
public sealed class NoiseRuleSettings
{
    /// <summary>The reason reports it matches are counted under.</summary>
    public string? Name { get; set; }
    /// <summary>Applications it applies to; empty for all.</summary>
    public List<string> Apps { get; set; } = [];
    /// <summary>Blocked host pattern, e.g. <c>*.ads.example</c>.</summary>
    public string? BlockedHost { get; set; }
    /// <summary>Document URL pattern, e.g. <c>https://staging.example/*</c>.</summary>
    public string? Url { get; set; }
    /// <summary>Source file pattern.</summary>
    public string? SourceFile { get; set; }
    /// <summary>Only record what the rule would drop.</summary>
    public bool DryRun { get; set; }
}

/// <summary>Fails start-up with every problem of <see cref="NoiseSettings"/> spelled out.</summary>
internal sealed class NoiseSettingsValidator : IValidateOptions<NoiseSettings>
{
    public ValidateOptionsResult Validate(string? name, NoiseSettings options)
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
