// The real report payloads the tests use: tests/golden/NN-*.input.json, inside the repository.
namespace Lookout.Tests.Shared;

/// <summary>The real report payloads, kept in the repository as the golden inputs
/// (<c>tests/golden/NN-*.input.json</c>): one home for the golden files and the corpus tests alike.</summary>
public static class Corpus
{
    /// <summary>Suffix of a payload file; its expected record sits beside it as <c>.expected.json</c>.</summary>
    public const string InputSuffix = ".input.json";

    /// <summary>The repository's root folder (the one holding <c>Lookout.sln</c>).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    // After RepositoryRoot: static initializers run in text order.
    /// <summary>The folder of payloads (<c>tests/golden</c>); throws with a clear message when it is
    /// missing or holds no payload, which fails every test that reads it, under CI or not.</summary>
    public static string Directory { get; } = Find();

    /// <summary>Every payload file, in name order.</summary>
    public static IReadOnlyList<string> Files => [.. System.IO.Directory.GetFiles(Directory, "*" + InputSuffix).Order(StringComparer.Ordinal)];

    /// <summary>The payload whose name starts with <paramref name="number"/> and a dash.</summary>
    public static string File(string number) => Files.Single(f => Path.GetFileName(f).StartsWith(number + "-", StringComparison.Ordinal));

    /// <summary>The bytes of that payload.</summary>
    public static byte[] Bytes(string number) => System.IO.File.ReadAllBytes(File(number));

    /// <summary>A payload's name without its folder and suffix, e.g. <c>01-csp-legacy-spec-csp2-sample</c>.</summary>
    public static string Name(string file) => Path.GetFileName(file)[..^InputSuffix.Length];

    private static string Find()
    {
        var folder = Path.Combine(RepositoryRoot, "tests", "golden");
        if (!System.IO.Directory.Exists(folder) || System.IO.Directory.GetFiles(folder, "*" + InputSuffix).Length == 0)
            throw new DirectoryNotFoundException(
                $"The report payloads were expected in the repository at {folder} (*{InputSuffix}); the clone is incomplete. " +
                "The tests read nothing outside the repository.");
        return folder;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Lookout.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("Lookout.sln not found above " + AppContext.BaseDirectory);
    }
}
