// Keeps the repository standing alone: no source, test, benchmark or script reads a path outside it.
using System.Text.RegularExpressions;
using Lookout.Tests.Shared;

namespace Lookout.Grains.Tests;

public sealed partial class RepositoryBoundaryTests
{
    // What is scanned: the folders a fresh clone builds and tests from, and the two test entry points.
    private static readonly string[] Folders = ["src", "tests", "bench", "scripts"];
    private static readonly string[] TopFiles = ["test.sh", ".ci/run"];
    // Build output and packages installed at build time are not the repository's own text.
    private static readonly HashSet<string> SkippedFolders = new(StringComparer.Ordinal) { "bin", "obj", "node_modules", "lib", "BenchmarkDotNet.Artifacts" };
    private static readonly HashSet<string> BinaryExtensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".ico", ".dll", ".pdb", ".db" };

    // A run of ../ (or ..\) at the start of a path, as written in project files, scripts and code.
    [GeneratedRegex("""(?<![\w.$/\\}])((?:\.\.[/\\])+)([\w.\-/\\]*)""")]
    private static partial Regex RelativePath();

    // The folder beside the repository that CI lays out for the developers, however it is spelled (the
    // repository's own tests/Shared is capitalized; Linux paths are case-sensitive).
    [GeneratedRegex("""\.\.\s*["']?\s*[,/\\+]\s*["']?\s*shared\b|shared[/\\]corpus""")]
    private static partial Regex SharedFolder();

    private static IEnumerable<string> ScannedFiles()
    {
        var root = Corpus.RepositoryRoot;
        foreach (var top in TopFiles)
        {
            var path = Path.Combine(root, top);
            if (File.Exists(path)) yield return path;
        }
        foreach (var folder in Folders)
        {
            foreach (var file in Walk(Path.Combine(root, folder))) yield return file;
        }
    }

    private static IEnumerable<string> Walk(string folder)
    {
        if (!Directory.Exists(folder)) yield break;
        foreach (var file in Directory.GetFiles(folder))
        {
            if (!BinaryExtensions.Contains(Path.GetExtension(file))) yield return file;
        }
        foreach (var sub in Directory.GetDirectories(folder))
        {
            if (SkippedFolders.Contains(Path.GetFileName(sub))) continue;
            foreach (var file in Walk(sub)) yield return file;
        }
    }

    /// <summary>Every place in <paramref name="text"/> (a file in <paramref name="folder"/>) that points outside
    /// <paramref name="root"/>: a relative path climbing above it, or the shared folder beside it.</summary>
    internal static IEnumerable<string> OutsideReferences(string text, string folder, string root)
    {
        root = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        foreach (Match match in SharedFolder().Matches(text)) yield return match.Value;
        foreach (Match match in RelativePath().Matches(text))
        {
            var relative = match.Value.Replace('\\', '/');
            var resolved = Path.GetFullPath(Path.Combine(folder, relative)) + Path.DirectorySeparatorChar;
            if (!resolved.StartsWith(root, StringComparison.Ordinal)) yield return match.Value;
        }
    }

    [Fact]
    public void No_file_refers_to_a_path_outside_the_repository()
    {
        var self = Path.Combine("tests", "Lookout.Grains.Tests", nameof(RepositoryBoundaryTests) + ".cs");
        var found = new List<string>();
        var scanned = 0;
        foreach (var file in ScannedFiles())
        {
            var relative = Path.GetRelativePath(Corpus.RepositoryRoot, file);
            // This file names the patterns it looks for.
            if (relative == self) continue;
            scanned++;
            foreach (var hit in OutsideReferences(File.ReadAllText(file), Path.GetDirectoryName(file)!, Corpus.RepositoryRoot))
                found.Add($"{relative}: {hit}");
        }
        Assert.True(scanned > 100, $"Only {scanned} files were scanned; the walk missed the repository.");
        Assert.True(found.Count == 0, "These refer to paths outside the repository, which a fresh clone does not have:\n" + string.Join("\n", found));
    }

    [Theory]
    [InlineData("var corpus = Path.Combine(dir, \"..\", \"shared\", \"corpus\");")]
    // Split so that this file does not itself read as a reference to the folder beside the repository.
    [InlineData("cat ../" + "shared/corpus/INDEX.md")]
    [InlineData("<None Include=\"..\\..\\..\\shared\\x.json\" />")]
    [InlineData("File.ReadAllBytes(\"../../../../elsewhere/payload.json\")")]
    [InlineData("source ../../../outside.sh")]
    public void Outside_references_are_found(string line)
        => Assert.NotEmpty(OutsideReferences(line, Path.Combine(Corpus.RepositoryRoot, "tests", "Lookout.Grains.Tests"), Corpus.RepositoryRoot));

    [Theory]
    [InlineData("<ProjectReference Include=\"..\\..\\src\\Lookout.Grains\\Lookout.Grains.csproj\" />")]
    [InlineData("<Compile Include=\"..\\Shared\\Corpus.cs\" LinkBase=\"Shared\" />")]
    [InlineData("cd \"$(dirname \"${BASH_SOURCE[0]}\")/..\"")]
    [InlineData("ArrayPool<byte>.Shared.Rent(4096)")]
    [InlineData("\"blocked-uri\":\"https://example.com/a/../b.js\"")]
    public void Paths_inside_the_repository_are_not_flagged(string line)
        => Assert.Empty(OutsideReferences(line, Path.Combine(Corpus.RepositoryRoot, "tests", "Lookout.Grains.Tests"), Corpus.RepositoryRoot));
}
