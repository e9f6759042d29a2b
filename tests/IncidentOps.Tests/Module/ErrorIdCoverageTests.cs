using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace IncidentOps.Tests.Module;

/// <summary>
/// Error ids are a contract: each area lists its ids as constants in one *ErrorIds class, and every id is asserted
/// by at least one test. There is no allow-list: a new id without a test fails here.
/// </summary>
public class ErrorIdCoverageTests
{
    private static IEnumerable<Assembly> Assemblies =>
    [
        typeof(IncidentOpsException).Assembly,                 // IncidentOps.Models
        typeof(IncidentOps.Engine.IncidentOpsEngine).Assembly, // IncidentOps.Engine
        Paths.ModuleAssembly,
    ];

    /// <summary>Every constant of every static class whose name ends in ErrorIds, as (class, id).</summary>
    public static IReadOnlyList<(string Class, string Id)> DeclaredIds() =>
        DeclaredFields().Select(x => (x.Class, x.Id)).Distinct()
            .OrderBy(x => x.Item1, StringComparer.Ordinal).ThenBy(x => x.Item2, StringComparer.Ordinal)
            .ToList();

    /// <summary>Every constant of every *ErrorIds class, as (class, field name, id).</summary>
    private static IReadOnlyList<(string Class, string Field, string Id)> DeclaredFields() =>
        Assemblies.SelectMany(a => a.GetTypes())
            .Where(t => t is { IsAbstract: true, IsSealed: true } && t.Name.EndsWith("ErrorIds", StringComparison.Ordinal))
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
                .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(string))
                .Select(f => (t.Name, f.Name, (string)f.GetRawConstantValue()!)))
            .OrderBy(x => x.Item1, StringComparer.Ordinal).ThenBy(x => x.Item2, StringComparer.Ordinal)
            .ToList();

    /// <summary>The test sources (xunit and Pester) without comment lines and without this file.</summary>
    private static readonly Lazy<string> TestText = new(() =>
    {
        var root = Path.Combine(Paths.RepoRoot, "tests");
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(root, "*.ps1", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Where(f => Path.GetFileName(f) != $"{nameof(ErrorIdCoverageTests)}.cs");
        return string.Join("\n", files.SelectMany(File.ReadLines).Where(l => !l.TrimStart().StartsWith("//") && !l.TrimStart().StartsWith('#')));
    });

    /// <summary>
    /// An id is asserted when a test names it as users see it (a string that is the id, or starts with "id," (the
    /// FullyQualifiedErrorId), in quotes of either kind) or by its constant (ActionErrorIds.ActionKindMissing).
    /// </summary>
    private static bool Asserted(string @class, string field, string id) =>
        Regex.IsMatch(TestText.Value, $"[\"']{Regex.Escape(id)}[\"',]") || Regex.IsMatch(TestText.Value, $"\\b{Regex.Escape(@class)}\\.{Regex.Escape(field)}\\b");

    [Fact]
    public void The_error_id_classes_are_found()
    {
        var classes = DeclaredIds().Select(x => x.Class).Distinct().ToList();
        foreach (var expected in new[] { "CommonErrorIds", "ConfigErrorIds", "DeadlineErrorIds", "HealthErrorIds", "PostgresErrorIds", "RedisErrorIds" })
            Assert.Contains(expected, classes);
        Assert.All(DeclaredIds(), x => Assert.Matches("^[A-Z][A-Za-z0-9]+$", x.Id));
    }

    [Fact]
    public void No_id_is_declared_by_two_classes()
    {
        var twice = DeclaredIds().GroupBy(x => x.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key} ({string.Join(", ", g.Select(x => x.Class))})").ToList();
        Assert.True(twice.Count == 0, "Declared in more than one *ErrorIds class: " + string.Join("; ", twice));
    }

    [Fact]
    public void Every_error_id_is_asserted_by_a_test()
    {
        var missing = DeclaredFields().GroupBy(x => (x.Class, x.Id)).Where(g => !g.Any(x => Asserted(x.Class, x.Field, x.Id)))
            .Select(g => $"{g.Key.Class}.{g.Key.Id}").Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} error id(s) appear in no test assertion: {string.Join(", ", missing)}");
    }
}
