using System.Text.RegularExpressions;
using Xunit;

namespace IncidentOps.Tests;

/// <summary>
/// The test suites leave nothing in the temp folder: every temporary folder comes from one helper per language
/// (Paths.TempDir here, New-TestTempDir / New-TestTempFile in tests/pester/Common.ps1), and those remove what they made.
/// A run used to leave about 700 folders (xunit) and 2,000 (Pester) in /tmp; a /tmp of 45,000 entries made CI's
/// Pester run take 17 minutes instead of 6.
/// </summary>
public class TempCleanupTests
{
    [Fact]
    public void TempDir_is_a_fresh_folder_inside_the_run_root()
    {
        var a = Paths.TempDir("io-probe");
        var b = Paths.TempDir("io-probe");
        Assert.NotEqual(a, b);
        Assert.True(Directory.Exists(a));
        Assert.Equal(Paths.TempRoot, Path.GetDirectoryName(a));
        Assert.Equal(Path.GetFullPath(Path.GetTempPath()).TrimEnd('/'), Path.GetDirectoryName(Paths.TempRoot));
        Assert.Equal($"io-xunit-{Environment.ProcessId}", Path.GetFileName(Paths.TempRoot));
        Assert.Matches("^io-probe-[0-9a-f]{12}$", Path.GetFileName(a));
    }

    [Fact]
    public void The_run_root_of_an_ended_test_process_is_removed_and_a_live_one_is_kept()
    {
        var parent = Paths.TempDir("io-orphans");
        var dead = Path.Combine(parent, "io-xunit-" + DeadPid());
        var live = Path.Combine(parent, "io-xunit-" + Environment.ProcessId);
        var other = Path.Combine(parent, "io-xunit-notapid");
        foreach (var d in new[] { dead, live, other }) Directory.CreateDirectory(Path.Combine(d, "fakecli-0123456789ab"));
        File.WriteAllText(Path.Combine(dead, "fakecli-0123456789ab", "argv.log"), "flyctl status\n");

        Paths.RemoveOrphanTempRoots(parent);

        Assert.False(Directory.Exists(dead));
        Assert.True(Directory.Exists(live));
        Assert.True(Directory.Exists(other));
    }

    [Fact]
    public void DeleteTree_removes_nested_read_only_content_and_accepts_a_missing_folder()
    {
        var dir = Paths.TempDir("io-delete");
        var sub = Directory.CreateDirectory(Path.Combine(dir, "store", "incidents")).FullName;
        File.WriteAllText(Path.Combine(sub, "i.jsonl"), "{}\n");
        File.SetUnixFileMode(sub, UnixFileMode.UserRead | UnixFileMode.UserExecute);

        Paths.DeleteTree(dir);
        Paths.DeleteTree(dir);

        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void Cleanup_actions_run_once_last_first_and_go_on_after_one_throws()
    {
        var order = new List<string>();
        var list = new CleanupList();
        list.Add(() => order.Add("first"));
        list.Add(() => throw new IOException("busy"));
        list.Add(() => order.Add("last"));

        list.RunAll();
        list.RunAll();

        Assert.Equal(["last", "first"], order);
    }

    /// <summary>
    /// Temp paths in test code come from the helpers, so they are removed; a file below may create its own only for the
    /// reason given (each removes what it made).
    /// </summary>
    private static readonly Dictionary<string, string> OwnTempAllowed = new()
    {
        ["tests/IncidentOps.Tests/Infrastructure/Paths.cs"] = "the helper itself",
        ["tests/IncidentOps.Tests/Infrastructure/TestServers.cs"] = "servers it starts itself, top level with owner.pid so a killed run's server is stopped by the next run",
        ["tests/IncidentOps.Tests/Safety/SecondPgServer.cs"] = "a PostgreSQL cluster, same owner.pid convention; removed on Dispose",
        ["tests/IncidentOps.Tests/Incidents/StoreDownTests.cs"] = "a PostgreSQL cluster the test stops and starts; removed on Dispose",
        ["tests/IncidentOps.Tests/Incidents/SpoolCloneTests.cs"] = "a pg_basebackup copy of a PostgreSQL cluster (ClonedPostgres), owned by the postgres user like PrivatePostgres's; removed on Dispose",
        ["tests/IncidentOps.Tests/Postgres/PgTlsTrustTests.cs"] = "a PostgreSQL cluster with ssl=on (TlsPgServer), same owner.pid convention; removed on Dispose",
        ["tests/pester/Common.ps1"] = "the helper itself",
        ["tests/pester/TestTemp.Tests.ps1"] = "checks that the helpers put their paths in the temp folder",
        ["tests/pester/DocExamples.Tests.ps1"] = "its work folder (also the examples' TMPDIR), removed in AfterAll unless INCIDENTOPS_DOCEX_KEEP",
        ["tests/examples/Examples.Tests.ps1"] = "its work folder (also the examples' TMPDIR), removed in AfterAll unless INCIDENTOPS_EXAMPLES_KEEP",
    };

    private static readonly Regex OwnTemp = new(
        string.Join('|', "GetTemp" + @"Path\(", "GetTemp" + @"FileName\(", "CreateTemp" + @"Subdirectory\(", "New-Temporary" + "File", @"\bmk" + @"temp\b", @"\bmkd" + "temp", "tempfile" + @"\."),
        RegexOptions.CultureInvariant);

    [Fact]
    public void Test_code_makes_temp_paths_only_through_the_shared_helpers()
    {
        var tests = Path.Combine(Paths.RepoRoot, "tests");
        var offenders = Directory.EnumerateFiles(tests, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetExtension(f) is ".cs" or ".ps1" or ".psm1" or ".py" or ".sh")
            .Select(f => Path.GetRelativePath(Paths.RepoRoot, f).Replace('\\', '/'))
            .Where(f => !Regex.IsMatch(f, "/(bin|obj|Fixtures)/") && !f.EndsWith("/TempCleanupTests.cs", StringComparison.Ordinal))
            .Where(f => !OwnTempAllowed.ContainsKey(f))
            .SelectMany(f => File.ReadLines(Path.Combine(Paths.RepoRoot, f)).Select((line, i) => (f, line, i)))
            .Where(x => OwnTemp.IsMatch(x.line) && !x.line.TrimStart().StartsWith('#') && !x.line.TrimStart().StartsWith("//", StringComparison.Ordinal))
            .Select(x => $"{x.f}:{x.i + 1}: {x.line.Trim()}")
            .ToList();
        Assert.True(offenders.Count == 0,
            "Make temporary folders and files with Paths.TempDir (xunit) or New-TestTempDir / New-TestTempFile (Pester, tests/pester/Common.ps1), " +
            "which remove them after the run or in the file's AfterAll (Remove-TestTemp); python and shell stand-ins get a folder from their test. Found:\n" +
            string.Join('\n', offenders));
    }

    private static int DeadPid()
    {
        for (var pid = 4_000_000; ; pid--) if (!Directory.Exists($"/proc/{pid}")) return pid;
    }
}
