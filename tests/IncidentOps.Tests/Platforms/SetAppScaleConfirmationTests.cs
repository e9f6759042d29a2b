using System.Text.Json.Nodes;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.FakeCli;

namespace IncidentOps.Tests.Platforms;

/// <summary>
/// Set-AppScale reads the count it scales from and says it ("from 10 to 1 instances") in its prompt, its What if: line and
/// the timeline. Set-AppScale is medium impact, below the default $ConfirmPreference (High), and asked only before -Count 0:
/// scaling production from 10 instances to 1 ran at once. A count below half of the current one, or one whose current count
/// cannot be read, now asks as -Count 0 does; -Force and -Confirm:$false skip the question. Fake CLIs replay recorded JSON
/// (fly-status.json with ten machines, do-app.json, k8s-deployment.json) and log their argv.
/// </summary>
public sealed class SetAppScaleConfirmationTests(ModuleFixture fx) : IClassFixture<ModuleFixture>
{
    private const string App = "app1";

    /// <summary>flyctl status --json of an app with <paramref name="machines"/> started machines (the recorded shape, its first machine repeated).</summary>
    private static string FlyStatus(int machines)
    {
        var status = JsonNode.Parse(File.ReadAllText(Fixture("fly-status.json")))!.AsObject();
        var first = status["Machines"]!.AsArray()[0]!;
        var list = new JsonArray();
        for (var i = 0; i < machines; i++)
        {
            var m = first.DeepClone().AsObject();
            m["id"] = $"machine{i:00}";
            m["state"] = "started";
            list.Add(m);
        }
        status["Machines"] = list;
        return status.ToJsonString();
    }

    private static (FakeCli Cli, string Target) Fly(int? machines)
    {
        var cli = new FakeCli();
        var replies = new List<Reply>();
        if (machines is { } n) replies.Add(new Reply($"status -a {App} --json", Text: FlyStatus(n)));
        else replies.Add(new Reply($"status -a {App} --json", Text: "", Exit: 1, Stderr: "Error: failed to get app: context deadline exceeded"));
        replies.Add(new Reply("scale count", Text: "ok\n"));
        return (cli, $"-Platform Fly -App {App} -FlyctlPath '{cli.Tool("flyctl", [.. replies])}'");
    }

    private static string StatusCall => $"flyctl status -a {App} --json";

    /// <summary>Runs <paramref name="script"/> answering a prompt with <paramref name="answer"/> (0 Yes, 2 No); returns the result and the prompt's message (null: no prompt).</summary>
    private (PwshResult Result, string? Prompt) Answering(string script, int answer)
    {
        string? prompt = null;
        fx.Session.ConfirmWith = (_, message) => { prompt = message; return answer; };
        try { return (fx.Run(script), prompt); }
        finally { fx.Session.ConfirmWith = null; }
    }

    [Fact]
    public void Scaling_from_10_to_1_asks_first_with_both_counts_and_a_No_scales_nothing()
    {
        var (cli, t) = Fly(10);
        var (r, prompt) = Answering($"Set-AppScale {t} -Count 1", answer: 2);
        Assert.NotNull(prompt);
        Assert.Contains($"from 10 to 1 instances? This removes 9 of its 10 instances", prompt);
        Assert.Contains($"flyctl scale count 1 -a {App} --yes", prompt);
        Assert.Empty(r.Output);
        Assert.Equal([StatusCall], cli.Calls);

        (r, prompt) = Answering($"Set-AppScale {t} -Count 1", answer: 0);
        Assert.NotNull(prompt);
        Assert.True(r.AssertNoErrors().Single<AppActionResult>().Succeeded);
        Assert.Equal([StatusCall, StatusCall, $"flyctl scale count 1 -a {App} --yes"], cli.Calls);
    }

    [Theory]
    [InlineData(5)]   // half: not a large scale-in
    [InlineData(10)]
    [InlineData(12)]
    public void A_count_of_at_least_half_the_current_one_runs_without_a_question(int count)
    {
        var (cli, t) = Fly(10);
        var (r, prompt) = Answering($"Set-AppScale {t} -Count {count}", answer: 2);
        Assert.Null(prompt);
        r.AssertNoErrors().Single<AppActionResult>();
        Assert.Equal([StatusCall, $"flyctl scale count {count} -a {App} --yes"], cli.Calls);
    }

    [Fact]
    public void WhatIf_shows_from_and_to_reads_the_count_and_scales_nothing()
    {
        var (cli, t) = Fly(10);
        var (r, prompt) = Answering($"Set-AppScale {t} -Count 1 -WhatIf", answer: 2);
        Assert.Null(prompt);
        Assert.Contains($"from 10 to 1 instances: flyctl scale count 1 -a {App} --yes", r.AssertNoErrors().HostText);
        Assert.Equal([StatusCall], cli.Calls);
    }

    [Theory]
    [InlineData("-Force")]
    [InlineData("-Confirm:$false")]
    public void Force_and_Confirm_false_scale_in_without_a_question(string skip)
    {
        var (cli, t) = Fly(10);
        var (r, prompt) = Answering($"Set-AppScale {t} -Count 1 {skip}", answer: 2);
        Assert.Null(prompt);
        r.AssertNoErrors().Single<AppActionResult>();
        Assert.Equal([StatusCall, $"flyctl scale count 1 -a {App} --yes"], cli.Calls);
    }

    [Fact]
    public void A_current_count_that_cannot_be_read_is_said_and_asked_about()
    {
        var (cli, t) = Fly(null);
        var (r, prompt) = Answering($"Set-AppScale {t} -Count 3 -Verbose", answer: 2);
        Assert.NotNull(prompt);
        Assert.Contains("to 3 instances? Its current instance count could not be read (", prompt);
        Assert.Contains("context deadline exceeded", prompt);
        Assert.Empty(r.Output);
        Assert.Empty(r.Errors);
        Assert.Equal([StatusCall], cli.Calls);
        Assert.Contains(r.Verbose, v => v.Contains("current instance count", StringComparison.Ordinal) && v.Contains("could not be read", StringComparison.Ordinal));
        // -WhatIf says it too, and -Force scales.
        Assert.Contains($"to 3 instances (current count unknown): flyctl scale count 3 -a {App} --yes", fx.Run($"Set-AppScale {t} -Count 3 -WhatIf").AssertNoErrors().HostText);
        fx.Run($"Set-AppScale {t} -Count 3 -Force").AssertNoErrors().Single<AppActionResult>();
        Assert.Equal($"flyctl scale count 3 -a {App} --yes", cli.Calls[^1]);
    }

    [Fact]
    public void Size_alone_reads_no_count_and_asks_nothing()
    {
        var cli = new FakeCli();
        var t = $"-Platform Fly -App {App} -FlyctlPath '{cli.Tool("flyctl", new Reply("scale vm", Text: "ok\n"))}'";
        var (r, prompt) = Answering($"Set-AppScale {t} -Size shared-cpu-2x", answer: 2);
        Assert.Null(prompt);
        r.AssertNoErrors();
        Assert.Equal([$"flyctl scale vm shared-cpu-2x -a {App}"], cli.Calls);
    }

    [Fact]
    public void Kubernetes_reads_spec_replicas_of_the_workload_alone()
    {
        const string k = "--context production -n akaind-platform";
        var cli = new FakeCli();
        var path = cli.Tool("kubectl", new Reply($"{k} get deployment marketing -o json", "k8s-deployment.json"), new Reply($"{k} scale", Text: "scaled\n"));
        var t = $"-Platform Kubernetes -Context production -Namespace akaind-platform -Deployment marketing -KubectlPath '{path}'";
        Assert.Contains($"from 3 to 1 instances: kubectl {k} scale deployment/marketing --replicas=1", fx.Run($"Set-AppScale {t} -Count 1 -WhatIf").AssertNoErrors().HostText);
        Assert.Equal([$"kubectl {k} get deployment marketing -o json"], cli.Calls);
        var (_, prompt) = Answering($"Set-AppScale {t} -Count 1", answer: 2);
        Assert.Contains("from 3 to 1 instances?", prompt);
        Assert.DoesNotContain(cli.Calls, c => c.Contains(" scale ", StringComparison.Ordinal));
    }

    [Fact]
    public void DigitalOcean_counts_the_largest_instance_count_of_the_components_it_scales()
    {
        // do-app.json: service portfolio-web runs 2 instances, worker image-worker 1; a scale without -Component sets both.
        using var home = new DoctlHome();
        var cli = new FakeCli();
        var id = "7f4a9c2e-1b3d-4e5f-8a6b-0c1d2e3f4a5b";
        var path = cli.Tool("doctl", new Reply($"apps get {id} -o json", "do-app.json"));
        var whatIf = fx.Run($"Set-AppScale -Platform DigitalOcean -AppId {id} -DoctlPath '{path}' -Count 1 -WhatIf").AssertNoErrors().HostText;
        Assert.Contains("from 2 to 1 instances: doctl apps spec get", whatIf);
        whatIf = fx.Run($"Set-AppScale -Platform DigitalOcean -AppId {id} -Component image-worker -DoctlPath '{path}' -Count 3 -WhatIf").AssertNoErrors().HostText;
        Assert.Contains("from 1 to 3 instances: doctl apps spec get", whatIf);
        Assert.All(cli.Calls, c => Assert.StartsWith($"doctl apps get {id} -o json", c));
    }
}
