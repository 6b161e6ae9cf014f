// What replaying one report against a policy says: allowed, blocked or unknown, with a named reason.
namespace Lookout.Grains.Policy;

/// <summary>The three answers. <see cref="Unknown"/> is given whenever the report lacks what the decision
/// needs: Lookout never guesses.</summary>
public enum Verdict
{
    /// <summary>The policy allows the reported resource.</summary>
    Allowed,
    /// <summary>The policy blocks it.</summary>
    Blocked,
    /// <summary>The report does not say enough to decide.</summary>
    Unknown,
}

/// <summary>A decision and why.</summary>
/// <param name="Verdict">The answer.</param>
/// <param name="Reason">One of <see cref="DecisionReasons"/>.</param>
/// <param name="Directive">The directive that decided (after fallback), or null when none governs.</param>
/// <param name="Source">The source expression that allowed it, when one did.</param>
public readonly record struct PolicyDecision(Verdict Verdict, string Reason, string? Directive = null, string? Source = null);

/// <summary>Why a decision came out as it did.</summary>
public static class DecisionReasons
{
    /// <summary>A source expression matched (allowed).</summary>
    public const string Matched = "matched";
    /// <summary>No directive of the fallback chain is in the policy (allowed).</summary>
    public const string NoDirective = "no_directive";
    /// <summary><c>'unsafe-inline'</c> allows all inline behaviour (allowed).</summary>
    public const string UnsafeInline = "unsafe_inline";
    /// <summary><c>'unsafe-eval'</c> or <c>'wasm-unsafe-eval'</c> (allowed).</summary>
    public const string UnsafeEval = "unsafe_eval";
    /// <summary>No source expression matches the URL (blocked).</summary>
    public const string NoMatch = "no_match";
    /// <summary>Inline code without <c>'unsafe-inline'</c> in effect (blocked).</summary>
    public const string InlineBlocked = "inline_blocked";
    /// <summary>Eval without <c>'unsafe-eval'</c> (blocked).</summary>
    public const string EvalBlocked = "eval_blocked";
    /// <summary>The policy has nonces or hashes that the element may carry or match; a report has neither (unknown).</summary>
    public const string NonceOrHash = "nonce_or_hash";
    /// <summary><c>'strict-dynamic'</c>: whether a script loads depends on who inserted it (unknown).</summary>
    public const string StrictDynamic = "strict_dynamic";
    /// <summary>A source has a path, and the report's URL has none or was cut (unknown).</summary>
    public const string PathUnknown = "path_unknown";
    /// <summary><c>'self'</c> or a scheme-less host needs the page's origin, and the report has no page URL (unknown).</summary>
    public const string OriginUnknown = "origin_unknown";
    /// <summary>The report names no blocked resource Lookout can read (unknown).</summary>
    public const string BlockedUnknown = "blocked_unknown";
    /// <summary>The report's directive is one Lookout does not evaluate, and the policy has it (unknown).</summary>
    public const string NotEvaluated = "not_evaluated";
    /// <summary>The report names only <c>default-src</c>, and the policy has other fetch directives, one of
    /// which may be the one that governs (unknown).</summary>
    public const string DirectiveUnknown = "directive_unknown";
}
