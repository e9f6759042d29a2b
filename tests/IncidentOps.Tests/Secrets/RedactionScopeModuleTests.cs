using IncidentOps.Incidents;
using IncidentOps.Tests.Incidents;
using IncidentOps.Tests.Platforms;
using Xunit;

namespace IncidentOps.Tests.Secrets;

/// <summary>Issue 18 item 4: a value registered by one command must not mask the record of later commands.</summary>
public class RedactionScopeModuleTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    [Fact]
    public void Values_set_by_one_command_do_not_mask_later_notes()
    {
        var (cfg, _) = IncidentCmdletTests.TempConfig();
        var cli = new FakeCli();
        var flyctl = cli.Tool("flyctl", new FakeCli.Reply("secrets import", Text: "ok\n"));
        const string canary = "blue-canary-4471";
        var r = fx.Run($$"""
            $c = '{{cfg}}'
            $i = New-Incident -Title 'API down' -Severity P1 -ConfigPath $c
            Set-AppSetting -Platform Fly -App api1 -FlyctlPath '{{flyctl}}' -ConfigPath $c -Setting @{ APP_ENV = 'production'; TOKEN_X = '{{canary}}' } -WhatIf
            Add-IncidentNote 'Rolled back production/api' -ConfigPath $c | Out-Null
            Add-IncidentNote 'Rotated the key named {{canary}} in the runbook' -ConfigPath $c | Out-Null
            @(Get-IncidentTimeline -Id $i.Id -ConfigPath $c)
            """).AssertNoErrors();
        var timeline = r.Objects<TimelineEntry>().ToList();
        // The -WhatIf entry of the command that had the value masks it.
        var whatIf = Assert.Single(timeline, e => e.Outcome == TimelineOutcome.WhatIf);
        Assert.DoesNotContain(canary, whatIf.Result + whatIf.Target + string.Join(",", whatIf.Parameters.Values));
        // Later notes keep their words: 'production' is never a secret, and the canary's scope ended with its command.
        Assert.Contains(timeline, e => e.Kind == "note" && e.Result == "Rolled back production/api");
        Assert.Contains(timeline, e => e.Kind == "note" && e.Result == $"Rotated the key named {canary} in the runbook");
    }

    [Fact]
    public void A_common_postgres_password_does_not_mask_notes()
    {
        var (cfg, _) = IncidentCmdletTests.TempConfig();
        var r = fx.Run($$"""
            $c = '{{cfg}}'
            $i = New-Incident -Title 'DB failover' -Severity P1 -ConfigPath $c
            Get-PgActivity -ConnectionString 'postgres://postgres:postgres@127.0.0.1:1/postgres' -TimeoutSec 1 -ErrorAction SilentlyContinue | Out-Null
            Add-IncidentNote 'postgres primary failed over' -ConfigPath $c | Out-Null
            @(Get-IncidentTimeline -Id $i.Id -ConfigPath $c)
            """);
        Assert.Contains(r.Objects<TimelineEntry>(), e => e.Kind == "note" && e.Result == "postgres primary failed over");
    }
}
