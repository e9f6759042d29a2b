using System.Text.RegularExpressions;

namespace IncidentOps.Tests;

/// <summary>
/// One provider's folder pair as the contract tests read it: src/IncidentOps.Engine/&lt;Area&gt;/&lt;Name&gt;/ declares the provider
/// class, and tests/IncidentOps.Tests/&lt;Area&gt;/&lt;Name&gt;/ mirrors it with its fixtures (Fixtures/, every file named in
/// Fixtures/SOURCES.md with where its shape comes from) and at least one test class. Area is Platforms or Notifications.
/// </summary>
public sealed partial record ProviderFolder(string Area, string Name, string TestDir, bool Exists, IReadOnlyList<string> Fixtures, string? Sources,
    IReadOnlyList<(string Path, string Text)> Code)
{
    /// <summary>tests/IncidentOps.Tests/&lt;Area&gt;/&lt;Name&gt;, relative to the repository, for messages.</summary>
    public string Relative => $"tests/IncidentOps.Tests/{Area}/{Name}";

    /// <summary>The engine folder (its name under Engine/&lt;Area&gt;/) whose files declare the class; null when the class is not in one.</summary>
    public static string? EngineFolderOf(string root, string area, string className)
    {
        var dir = Path.Combine(root, "src", "IncidentOps.Engine", area);
        if (!Directory.Exists(dir)) return null;
        var declaration = new Regex($@"\bclass\s+{Regex.Escape(className)}\b");
        var found = Directory.GetDirectories(dir).FirstOrDefault(d =>
            Directory.EnumerateFiles(d, "*.cs", SearchOption.AllDirectories).Any(f => declaration.IsMatch(File.ReadAllText(f))));
        return found is null ? null : Path.GetFileName(found);
    }

    /// <summary>The provider folders under Engine/&lt;Area&gt;/ (every sub-folder).</summary>
    public static IReadOnlyList<string> EngineFolders(string root, string area)
    {
        var dir = Path.Combine(root, "src", "IncidentOps.Engine", area);
        return Directory.Exists(dir) ? Directory.GetDirectories(dir).Select(Path.GetFileName).Order().ToList()! : [];
    }

    /// <summary>The provider test folders under tests/IncidentOps.Tests/&lt;Area&gt;/ (every sub-folder but the shared Fixtures/).</summary>
    public static IReadOnlyList<string> TestFolders(string root, string area)
    {
        var dir = Path.Combine(root, "tests", "IncidentOps.Tests", area);
        return Directory.Exists(dir)
            ? Directory.GetDirectories(dir).Select(Path.GetFileName).Where(n => n is not ("Fixtures" or "bin" or "obj")).Order().ToList()!
            : [];
    }

    public static ProviderFolder Load(string root, string area, string name)
    {
        var dir = Path.Combine(root, "tests", "IncidentOps.Tests", area, name);
        if (!Directory.Exists(dir)) return new ProviderFolder(area, name, dir, false, [], null, []);
        var fixtures = Path.Combine(dir, "Fixtures");
        var files = Directory.Exists(fixtures)
            ? Directory.GetFiles(fixtures).Select(Path.GetFileName).Where(f => f != "SOURCES.md").Order().ToList()!
            : new List<string>();
        var sources = Path.Combine(fixtures, "SOURCES.md");
        var code = Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories)
            .Select(f => (Path.GetRelativePath(root, f), File.ReadAllText(f))).ToList();
        return new ProviderFolder(area, name, dir, true, files!, File.Exists(sources) ? File.ReadAllText(sources) : null, code);
    }

    /// <summary>
    /// The shared fixtures of an area (tests/IncidentOps.Tests/&lt;Area&gt;/Fixtures/, with its own SOURCES.md), for fixtures
    /// several providers' tests replay; null when there is none.
    /// </summary>
    public static ProviderFolder? Shared(string root, string area)
    {
        var dir = Path.Combine(root, "tests", "IncidentOps.Tests", area, "Fixtures");
        if (!Directory.Exists(dir)) return null;
        var sources = Path.Combine(dir, "SOURCES.md");
        return new ProviderFolder(area, "Fixtures", dir, true, Directory.GetFiles(dir).Select(Path.GetFileName).Where(f => f != "SOURCES.md").Order().ToList()!,
            File.Exists(sources) ? File.ReadAllText(sources) : null, []);
    }

    /// <summary>The fixture files SOURCES.md does not name (in backquotes).</summary>
    public IEnumerable<string> Unsourced => Fixtures.Where(f => Sources is null || !Sources.Contains($"`{f}`", StringComparison.Ordinal));

    /// <summary>What the folder lacks: the folder itself, fixtures, SOURCES.md naming each fixture, a test class.</summary>
    public IEnumerable<string> Misses(string provider)
    {
        if (!Exists)
        {
            yield return $"{provider}: no test folder {Relative}/ (mirroring src/IncidentOps.Engine/{Area}/{Name}/) with its fixtures and tests";
            yield break;
        }
        if (Fixtures.Count == 0) yield return $"{provider}: no fixtures in {Relative}/Fixtures/";
        if (Sources is null) yield return $"{provider}: no {Relative}/Fixtures/SOURCES.md saying where each fixture's shape comes from";
        else
            foreach (var f in Unsourced)
                yield return $"{provider}: {Relative}/Fixtures/SOURCES.md does not name `{f}` (where its shape comes from)";
        if (!Code.Any(c => TestMethod().IsMatch(c.Text)))
            yield return $"{provider}: no test class in {Relative}/ (a .cs file with a [Fact] or [Theory])";
    }

    [GeneratedRegex(@"\[(Fact|Theory)\b")]
    private static partial Regex TestMethod();
}
