// Finds ../shared/corpus beside the repository, where CI puts it.
namespace Lookout.Tests.Shared;

/// <summary>The real report payloads in <c>../shared/corpus</c>.</summary>
public static class Corpus
{
    /// <summary>The corpus folder; throws when it cannot be found.</summary>
    public static string Directory { get; } = Find();

    /// <summary>Every payload file.</summary>
    public static IReadOnlyList<string> Files => [.. System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal)];

    /// <summary>The file whose name starts with <paramref name="number"/> and a dash.</summary>
    public static string File(string number) => Files.Single(f => Path.GetFileName(f).StartsWith(number + "-", StringComparison.Ordinal));

    /// <summary>The bytes of that file.</summary>
    public static byte[] Bytes(string number) => System.IO.File.ReadAllBytes(File(number));

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Lookout.sln")))
            {
                var corpus = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "corpus"));
                if (System.IO.Directory.Exists(corpus)) return corpus;
                throw new DirectoryNotFoundException($"The shared corpus was expected at {corpus}.");
            }
        }
        throw new DirectoryNotFoundException("Lookout.sln not found above " + AppContext.BaseDirectory);
    }
}
