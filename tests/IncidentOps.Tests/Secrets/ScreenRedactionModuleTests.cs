using IncidentOps.Health;
using IncidentOps.Incidents;
using IncidentOps.Platforms;
using IncidentOps.Tests.Health;
using IncidentOps.Tests.Incidents;
using IncidentOps.Tests.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Secrets;

/// <summary>Issue 16 item 5 and issue 18 item 20: credentials never reach the screen, the result objects or the timeline.</summary>
public sealed class ScreenRedactionModuleTests(ModuleFixture fx) : IClassFixture<ModuleFixture>, IDisposable
{
    private readonly HealthTestServer _http = new();
    public void Dispose() => _http.Dispose();

    [Fact]
    public void GetAppSetting_marks_a_url_with_a_password_secret_and_masks_it_unless_NoRedaction()
    {
        var pw = "Pw" + Guid.NewGuid().ToString("N")[..10];
        var tok = "tok-" + Guid.NewGuid().ToString("N")[..10];
        var cli = new FakeCli();
        var path = cli.Tool("systemctl", new Reply("show fastapi -p Environment --no-pager",
            Text: $"Environment=APP_ENV=production DATABASE_URL=postgres://app:{pw}@db.internal:5432/app API_TOKEN={tok} PORT=8000\n"));
        var r = fx.Run($"Get-AppSetting -Platform Systemd -Unit fastapi -SystemctlPath '{path}' | ForEach-Object {{ $_; $_.ToString() }}").AssertNoErrors();
        Assert.DoesNotContain(pw, r.AllText());
        Assert.DoesNotContain(tok, r.AllText());
        var s = fx.Run($"Get-AppSetting -Platform Systemd -Unit fastapi -SystemctlPath '{path}'").AssertNoErrors().Objects<AppSetting>().ToDictionary(x => x.Key);
        Assert.Equal((true, "postgres://app:********@db.internal:5432/app"), (s["DATABASE_URL"].IsSecret, s["DATABASE_URL"].Value));
        Assert.Equal((true, (string?)null), (s["API_TOKEN"].IsSecret, s["API_TOKEN"].Value));
        Assert.Equal((false, "production"), (s["APP_ENV"].IsSecret, s["APP_ENV"].Value));
        Assert.Equal((false, "8000"), (s["PORT"].IsSecret, s["PORT"].Value));
        var raw = fx.Run($"Get-AppSetting -Platform Systemd -Unit fastapi -SystemctlPath '{path}' -NoRedaction").AssertNoErrors().Objects<AppSetting>().ToDictionary(x => x.Key);
        Assert.Equal((true, $"postgres://app:{pw}@db.internal:5432/app"), (raw["DATABASE_URL"].IsSecret, raw["DATABASE_URL"].Value));
        Assert.Equal(tok, raw["API_TOKEN"].Value);
    }

    [Fact]
    public void GetAppLog_masks_credentials_in_lines_as_the_evidence_copy_does_unless_NoRedaction()
    {
        var pw = "Pw" + Guid.NewGuid().ToString("N")[..10];
        var journal = Path.Combine(Paths.TempDir("journal"), "j.jsonl");
        File.WriteAllText(journal,
            $$"""{"__REALTIME_TIMESTAMP":"1795424455000000","_HOSTNAME":"api-1","_PID":"42","PRIORITY":"3","MESSAGE":"connect to postgres://app:{{pw}}@db.internal:5432/app failed"}""" + "\n" +
            $$"""{"__REALTIME_TIMESTAMP":"1795424456000000","_HOSTNAME":"api-1","_PID":"42","PRIORITY":"6","MESSAGE":"GET /cb?access_token={{pw}}x 200"}""" + "\n" +
            """{"__REALTIME_TIMESTAMP":"1795424457000000","_HOSTNAME":"api-1","_PID":"42","PRIORITY":"6","MESSAGE":"postgres primary failed over to production replica"}""" + "\n");
        var cli = new FakeCli();
        var path = cli.Tool("journalctl", new Reply("-u fastapi -o json", journal));
        var r = fx.Run($"Get-AppLog -Platform Systemd -Unit fastapi -JournalctlPath '{path}' | ForEach-Object {{ $_; $_.ToString() }}").AssertNoErrors();
        Assert.DoesNotContain(pw, r.AllText());
        var logs = fx.Run($"Get-AppLog -Platform Systemd -Unit fastapi -JournalctlPath '{path}'").AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Equal("connect to postgres://app:********@db.internal:5432/app failed", logs[0].Message);
        Assert.Equal("GET /cb?access_token=******** 200", logs[1].Message);
        Assert.Equal("postgres primary failed over to production replica", logs[2].Message);
        var raw = fx.Run($"Get-AppLog -Platform Systemd -Unit fastapi -JournalctlPath '{path}' -NoRedaction").AssertNoErrors().Objects<AppLogEntry>().ToList();
        Assert.Contains(pw, raw[0].Message);
    }

    [Fact]
    public async Task Health_urls_with_credentials_never_show_them_in_the_result_or_the_timeline()
    {
        var (cfg, store) = IncidentCmdletTests.TempConfig();
        var pw = "Pw" + Guid.NewGuid().ToString("N")[..10];
        var url = _http.Url("/ok").Replace("http://", $"http://ops:ss-{pw}@") + $"?access_token=at{pw}&client_secret=cs{pw}&api-key=ak{pw}";
        var r = fx.Run($$"""
            $c = '{{cfg}}'
            New-Incident -Title 'health' -Severity P2 -ConfigPath $c | Out-Null
            $here = $ExecutionContext.SessionState.Path.CurrentLocation.Path
            $ExecutionContext.SessionState.Path.SetLocation([System.IO.Path]::GetDirectoryName($c)) | Out-Null
            try { Test-ServiceHealth '{{url}}' -Record -Verbose | ForEach-Object { $_; $_.ToString() } }
            finally { $ExecutionContext.SessionState.Path.SetLocation($here) | Out-Null }
            """).AssertNoErrors();
        Assert.DoesNotContain(pw, r.AllText());
        var result = r.Single<HealthResult>();
        Assert.True(result.Healthy);
        Assert.StartsWith("http://ops:********@127.0.0.1:", result.Uri);
        Assert.EndsWith("/ok?access_token=********&client_secret=********&api-key=********", result.Uri);
        var stored = string.Concat(Directory.GetFiles(store, "*", SearchOption.AllDirectories).Select(File.ReadAllText));
        Assert.Contains("Test health", stored);
        Assert.DoesNotContain(pw, stored);
        await Task.CompletedTask;
    }
}
