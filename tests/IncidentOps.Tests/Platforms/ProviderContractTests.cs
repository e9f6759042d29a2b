using System.Reflection;
using System.Text.RegularExpressions;
using IncidentOps.Config;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;
using Xunit;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// The provider contract, in both directions (as PSScriptAnalyzer checks its rules against its docs): every registered
/// platform and database provider has its row in the README's provider table, its keys in the configuration docs, a
/// stand-in for each CLI it drives, fixtures whose source is noted, and at least one test per operation; and every
/// platform, database key and CLI the README names has a provider. Each check lists all its misses at once.
/// </summary>
public partial class ProviderContractTests
{
    /// <summary>The cmdlet (and, where one cmdlet does several, the parameter) that drives each adapter operation.</summary>
    private static readonly Dictionary<string, string> PlatformOperations = new()
    {
        ["GetStatusAsync"] = "Get-AppStatus", ["GetDeploymentsAsync"] = "Get-AppDeployment", ["GetLogsAsync"] = "Get-AppLog", ["FollowLogsAsync"] = "Get-AppLog.*-Follow",
        ["GetSettingsAsync"] = "Get-AppSetting", ["PlanRestart"] = "Restart-App", ["PlanScale"] = "Set-AppScale",
        ["PlanSetSettings"] = "Set-AppSetting", ["PlanRollback"] = "Invoke-Rollback", ["PlanFinishRollback"] = "Invoke-Rollback.*-(Commit|Revert)",
    };

    private static readonly Dictionary<string, string> DatabaseOperations = new()
    {
        ["GetStatusAsync"] = "Get-AppDatabase\\b", ["GetBackupsAsync"] = "Get-AppDatabaseBackup", ["PlanRestart"] = "Restart-AppDatabase",
        ["PlanCreateBackup"] = "New-AppDatabaseBackup", ["PlanRestore"] = "Restore-AppDatabaseBackup", ["PlanRestoreToTime"] = "Restore-AppDatabaseBackup.*-(RestoreTime|LatestRestorableTime)",
    };

    /// <summary>One provider as the contract sees it.</summary>
    public sealed record ProviderFacts(string Name, PlatformKind Kind, string TargetParameter, IReadOnlyList<string> ConfigKeys, IReadOnlyList<CliTool> Tools, bool IsDatabase);

    public static IEnumerable<ProviderFacts> Registered() =>
        PlatformRegistry.Platforms.Select(p => new ProviderFacts(p.GetType().Name, p.Kind, p.TargetParameter, p.ConfigKeys.Select(k => k.Key).ToList(), p.Tools, false))
            .Concat(PlatformRegistry.Databases.Select(d => new ProviderFacts(d.GetType().Name, d.Kind, d.TargetParameter, ["postgres." + d.ConfigKey], d.Tools, true)));

    /// <summary>What the repository holds that the contract reads.</summary>
    public sealed record Repo(string Readme, string Sources, IReadOnlyList<string> FixtureFiles, IReadOnlyList<(string Path, string Text)> Tests)
    {
        public static Repo Load()
        {
            var root = Paths.RepoRoot;
            var fixtures = Path.Combine(root, "tests", "IncidentOps.Tests", "Platforms", "Fixtures");
            var tests = Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.*", SearchOption.AllDirectories)
                .Where(f => (f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".ps1", StringComparison.Ordinal))
                    && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    && !f.EndsWith(nameof(ProviderContractTests) + ".cs", StringComparison.Ordinal))
                .Select(f => (Path.GetRelativePath(root, f), File.ReadAllText(f))).ToList();
            return new Repo(File.ReadAllText(Path.Combine(root, "README.md")),
                string.Join("\n", Directory.GetFiles(fixtures, "*.md").Select(File.ReadAllText)),
                Directory.GetFiles(fixtures).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).Select(Path.GetFileName).ToList()!, tests);
        }

        /// <summary>The rows of the README's "Platform providers" table.</summary>
        public IReadOnlyList<string[]> ProviderRows
        {
            get
            {
                var start = Readme.IndexOf("### Platform providers", StringComparison.Ordinal);
                if (start < 0) return [];
                return Readme[start..].Split('\n').SkipWhile(l => !l.StartsWith("| provider", StringComparison.Ordinal)).Skip(2)
                    .TakeWhile(l => l.StartsWith('|')).Select(l => l.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray()).ToList();
            }
        }
    }

    /// <summary>Every way a provider falls short of the contract; empty when it meets it.</summary>
    public static List<string> Misses(ProviderFacts p, Repo repo)
    {
        var misses = new List<string>();
        var row = repo.ProviderRows.FirstOrDefault(r => r.Length >= 6 && r[1] == $"`{p.Kind}`" && p.ConfigKeys.All(k => r[3].Contains($"`{k}`", StringComparison.Ordinal)));
        if (row is null) misses.Add($"{p.Name}: no row in README's 'Platform providers' table with -Platform `{p.Kind}` and its keys {string.Join(", ", p.ConfigKeys.Select(k => $"`{k}`"))}");
        foreach (var tool in p.Tools)
        {
            if (row is not null && !(row[4].Contains($"`{tool.Name}`", StringComparison.Ordinal) && row[5].Contains($"`{tool.PathParameter}`", StringComparison.Ordinal)))
                misses.Add($"{p.Name}: its README row does not name the CLI `{tool.Name}` and `{tool.PathParameter}`");
            if (!Regex.IsMatch(repo.Readme, $@"\| `tools` \|[^\n]*`{Regex.Escape(tool.Name)}`"))
                misses.Add($"{p.Name}: README's configuration table does not list `{tool.Name}` under `tools`");
            var standIn = new Regex($@"Tool\(""{Regex.Escape(tool.Name)}""|New-FakeCli\s+'?{Regex.Escape(tool.Name)}\b|New-StandInCli\s+{Regex.Escape(tool.Name)}\b|Path\.Combine\(Dir, ""{Regex.Escape(tool.Name)}""\)");
            if (!repo.Tests.Any(t => standIn.IsMatch(t.Text)))
                misses.Add($"{p.Name}: no fake CLI or stand-in for `{tool.Name}` (FakeCli.Tool(\"{tool.Name}\", ...) or New-FakeCli {tool.Name})");
            if (!Regex.IsMatch(repo.Sources, $@"\n\|[^|\n]+\| `{Regex.Escape(tool.Name)} "))
                misses.Add($"{p.Name}: no fixture of `{tool.Name}` output with its source noted in Fixtures/SOURCES.md (a row whose command starts with `{tool.Name} `)");
        }
        var covering = repo.Tests.Where(t => t.Text.Contains($"-Platform {p.Kind}", StringComparison.Ordinal) && t.Text.Contains(p.TargetParameter, StringComparison.Ordinal)).ToList();
        var operations = p.IsDatabase ? DatabaseOperations : PlatformOperations;
        foreach (var (operation, cmdlet) in operations)
        {
            var pattern = new Regex(cmdlet);
            if (!covering.Any(t => t.Text.Split('\n').Any(pattern.IsMatch)))
                misses.Add($"{p.Name}: no test of {operation} ({cmdlet.Replace("\\b", "", StringComparison.Ordinal)}) in a test file that targets -Platform {p.Kind} {p.TargetParameter}");
        }
        return misses;
    }

    [Fact]
    public void Every_registered_provider_has_docs_a_stand_in_sourced_fixtures_and_a_test_per_operation()
    {
        var repo = Repo.Load();
        Assert.NotEmpty(repo.ProviderRows);
        var misses = Registered().SelectMany(p => Misses(p, repo)).ToList();
        Assert.True(misses.Count == 0, "The provider contract is not met:\n" + string.Join("\n", misses));
    }

    [Fact]
    public void The_operation_lists_cover_every_adapter_operation()
    {
        static IEnumerable<string> Ops(Type t) => t.GetMethods(BindingFlags.Public | BindingFlags.Instance).Where(m => !m.IsSpecialName).Select(m => m.Name);
        Assert.Equal(Ops(typeof(IPlatformAdapter)).Order(), PlatformOperations.Keys.Order());
        Assert.Equal(Ops(typeof(IDatabaseAdapter)).Order(), DatabaseOperations.Keys.Order());
    }

    [Fact]
    public void Every_fixture_has_its_source_noted()
    {
        var repo = Repo.Load();
        Assert.Empty(repo.FixtureFiles.Where(f => !repo.Sources.Contains($"`{f}`", StringComparison.Ordinal)));
    }

    [Fact]
    public void Every_platform_database_key_and_CLI_the_README_names_has_a_provider()
    {
        var repo = Repo.Load();
        var misses = new List<string>();
        var platformRow = Regex.Match(repo.Readme, @"\| `environments\.<env>\.services\.<name>` \| `platform` \(([^)]*)\)").Groups[1].Value;
        var documented = Regex.Matches(platformRow, "`([^`]+)`").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(documented);
        misses.AddRange(documented.Where(v => !PlatformRegistry.TryParseConfigName(v, out var k) || k == PlatformKind.None).Select(v => $"platform: {v} (README) has no platform provider"));
        var postgresRow = Regex.Match(repo.Readme, @"\| `\.\.\.services\.<name>\.postgres` \|([^\n]*)").Groups[1].Value;
        var keys = Regex.Matches(postgresRow, @"(\w+): <").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(keys);
        misses.AddRange(keys.Where(k => PlatformRegistry.Databases.All(d => d.ConfigKey != k)).Select(k => $"postgres.{k} (README) has no database provider"));
        var toolsRow = Regex.Match(repo.Readme, @"\| `tools` \|([^\n]*)").Groups[1].Value;
        misses.AddRange(Regex.Matches(toolsRow, "`([^`]+)`").Select(m => m.Groups[1].Value).Where(t => PlatformRegistry.Tool(t) is null).Select(t => $"tools.{t} (README) is driven by no provider"));
        foreach (var row in repo.ProviderRows)
            if (!Enum.TryParse<PlatformKind>(row[1].Trim('`'), out var kind) || (PlatformRegistry.Platform(kind) is null && PlatformRegistry.Database(kind) is null))
                misses.Add($"README's provider table names {row[0]} ({row[1]}), which no provider registers");
        misses.AddRange(Enum.GetValues<PlatformKind>().Where(k => k != PlatformKind.None && PlatformRegistry.Platform(k) is null && PlatformRegistry.Database(k) is null)
            .Select(k => $"PlatformKind.{k} has no provider"));
        Assert.True(misses.Count == 0, string.Join("\n", misses));
    }

    [Fact]
    public void The_contract_fails_for_a_provider_that_lacks_its_parts()
    {
        // A provider folder with only a class in it: no README row, no stand-in, no fixtures, no tests.
        var bare = new ProviderFacts("OpsgenieDbProvider", PlatformKind.Aws, "-DatabaseName", ["postgres.cosmos"], [new CliTool("cosmosctl", "cosmosctl", "-CosmosctlPath")], true);
        var misses = Misses(bare, Repo.Load());
        Assert.Contains(misses, m => m.Contains("no row in README", StringComparison.Ordinal));
        Assert.Contains(misses, m => m.Contains("does not list `cosmosctl` under `tools`", StringComparison.Ordinal));
        Assert.Contains(misses, m => m.Contains("no fake CLI or stand-in for `cosmosctl`", StringComparison.Ordinal));
        Assert.Contains(misses, m => m.Contains("no fixture of `cosmosctl` output", StringComparison.Ordinal));
        Assert.Equal(DatabaseOperations.Count, misses.Count(m => m.Contains("no test of", StringComparison.Ordinal)));
    }
}
