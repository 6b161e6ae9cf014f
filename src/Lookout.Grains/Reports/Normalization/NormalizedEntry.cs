// A normalized report and what the noise rules need to judge it.
using Lookout.Grains.Reports.Noise;

namespace Lookout.Grains.Reports.Normalization;

/// <summary>What a format normalizer hands back: the report (without enrichment or verdict) and
/// the raw values the noise rules look at.</summary>
internal readonly record struct NormalizedEntry(Report Report, NoiseInput Noise);
