using System.Collections.Concurrent;
using IncidentOps.Config;
using IncidentOps.Engine;
using IncidentOps.Engine.Platforms;
using IncidentOps.Platforms;
using Xunit;
using static IncidentOps.Tests.Platforms.ProcessRunnerTests;

namespace IncidentOps.Tests.Platforms;

/// <summary>The engine under Get-AppLog -Follow: the runner's streaming mode, the log filters and the JSON framing.</summary>
public class LogStreamingEngineTests
{
    private static int? PidIn(string dir, string file) =>
        File.Exists(Path.Combine(dir, file)) && int.TryParse(File.ReadAllText(Path.Combine(dir, file)).Trim(), out var p) ? p : null;

    // ---------------------------------------------------------------- ProcessRunner.StreamLinesAsync

    [Fact]
    public async Task Each_line_reaches_the_handler_while_the_cli_is_still_running()
    {
        var (path, dir) = Script("echo $$ > cli.pid\necho one\necho two\nsleep 300 & echo $! > child.pid; wait");
        var runner = new ProcessRunner(NullSink.Instance);
        var lines = new ConcurrentQueue<string>();
        var two = new TaskCompletionSource();
        using var cts = new CancellationTokenSource();
        var follow = runner.StreamLinesAsync(new CliCommand("flyctl", path, ["logs"]), l => { lines.Enqueue(l); if (l == "two") two.TrySetResult(); }, cts.Token);
        await two.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(follow.IsCompleted, "the CLI still runs: the lines came before its end");
        Assert.Equal(["one", "two"], lines);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follow.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(Gone(PidIn(dir, "cli.pid")));
        Assert.True(Gone(PidIn(dir, "child.pid")));
    }

    [Fact]
    public async Task A_handler_that_throws_kills_the_cli_and_its_error_comes_out()
    {
        var (path, dir) = Script("echo $$ > cli.pid\necho 'not json'\nsleep 300 & echo $! > child.pid; wait");
        var runner = new ProcessRunner(NullSink.Instance);
        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => runner.StreamLinesAsync(new CliCommand("flyctl", path, ["logs"]), l => throw new InvalidDataException(l), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("not json", ex.Message);
        Assert.True(Gone(PidIn(dir, "cli.pid")));
        if (PidIn(dir, "child.pid") is { } child) Assert.True(Gone(child));
    }

    [Fact]
    public async Task A_stream_the_cli_ends_returns_and_a_failing_one_is_PlatformCommandFailed_with_stderr()
    {
        var runner = new ProcessRunner(NullSink.Instance);
        var (ok, _) = Script("echo a\necho b\nexit 0");
        var lines = new List<string>();
        await runner.StreamLinesAsync(new CliCommand("flyctl", ok, ["logs"]), lines.Add, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(["a", "b"], lines);
        var (bad, _) = Script("echo a\necho 'Error: not authorized' >&2\nexit 3");
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => runner.StreamLinesAsync(new CliCommand("flyctl", bad, ["logs"]), _ => { }, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(PlatformErrorIds.PlatformCommandFailed, ex.ErrorId);
        Assert.Contains("code 3", ex.Message);
        Assert.Contains("not authorized", ex.Message);
    }

    [Fact]
    public async Task A_line_without_end_past_the_stdout_cap_is_PlatformOutputTooLarge_and_the_cli_is_killed()
    {
        var (path, dir) = Script("echo $$ > cli.pid\nexec cat /dev/zero");
        var runner = new ProcessRunner(NullSink.Instance) { MaxStdoutChars = 1024 * 1024 };
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => runner.StreamLinesAsync(new CliCommand("flyctl", path, ["logs"]), _ => { }, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(PlatformErrorIds.PlatformOutputTooLarge, ex.ErrorId);
        Assert.True(Gone(PidIn(dir, "cli.pid")));
    }

    [Fact]
    public async Task A_slow_consumer_behind_a_full_handoff_stops_the_reading_so_the_cli_blocks_and_nothing_is_lost()
    {
        // The consumer (the pipeline thread in Get-AppLog) takes 10 ms per line from its queue; the CLI writes 1 KB lines
        // as fast as it can. The hand-off never holds more than its capacity, and the CLI is never more than that plus
        // what the OS pipe and the reader's buffers hold (64 KiB + 16 KiB: under 100 of these lines) ahead.
        var cli = new FakeCli();
        var path = cli.Noisy("flyctl", "seq=%d %s");
        var runner = new ProcessRunner(NullSink.Instance);
        var handoff = new LogHandoff(capacity: 8);
        using var queue = new BlockingCollection<Action>();
        using var cts = new CancellationTokenSource();
        var follow = runner.StreamLinesAsync(new CliCommand("flyctl", path, ["logs"]), (line, token) => handoff.HandAsync(line, queue.Add, _ => { }, token), cts.Token);
        var consumed = new List<int>();
        var maxLag = 0;
        var consumer = Task.Run(() =>
        {
            var got = 0;
            foreach (var work in queue.GetConsumingEnumerable(cts.Token))
            {
                Thread.Sleep(10);
                work();
                consumed.Add(++got);
                maxLag = Math.Max(maxLag, cli.Written("flyctl") - got);
                if (got == 200) break;
            }
        });
        await consumer.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.False(follow.IsCompleted, "the CLI is held back, not ended");
        Assert.InRange(handoff.Peak, 1, handoff.Capacity);
        Assert.True(maxLag <= handoff.Capacity + 120, $"the CLI ran {maxLag} lines ahead of the consumer");
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follow.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(Gone(cli.Pid("flyctl.pid")), "a CLI blocked on a full pipe is still killed at once");
    }

    [Fact]
    public async Task Every_line_goes_through_a_small_handoff_in_order()
    {
        var (path, _) = Script("for ((i=1;i<=3000;i++)); do echo \"line $i\"; done");
        var runner = new ProcessRunner(NullSink.Instance);
        var handoff = new LogHandoff(capacity: 4);
        using var queue = new BlockingCollection<Action>();
        var lines = new List<string>();
        var consumer = Task.Run(() => { foreach (var work in queue.GetConsumingEnumerable()) work(); });
        await runner.StreamLinesAsync(new CliCommand("flyctl", path, ["logs"]), (line, token) => handoff.HandAsync(line, queue.Add, lines.Add, token), CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(60));
        queue.CompleteAdding();
        await consumer.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(1, 3000).Select(i => $"line {i}"), lines);
        Assert.Equal(0, handoff.Waiting);
        Assert.InRange(handoff.Peak, 1, 4);
    }

    [Fact]
    public async Task A_missing_cli_is_PlatformCliNotFound()
    {
        var runner = new ProcessRunner(NullSink.Instance);
        var ex = await Assert.ThrowsAsync<IncidentOpsException>(() => runner.StreamLinesAsync(new CliCommand("flyctl", "/nonexistent/flyctl", ["logs"]), _ => { }, CancellationToken.None));
        Assert.Equal(PlatformErrorIds.PlatformCliNotFound, ex.ErrorId);
    }

    // ---------------------------------------------------------------- LogFilter

    private static AppLogEntry E(string message, string? level = "info", string? instance = null) =>
        new() { Platform = PlatformKind.Fly, Name = "a", Message = message, Level = level, Instance = instance };

    [Theory]
    [InlineData("warning", new[] { "warn", "error", "crit", "emerg", "fatal" }, new[] { "info", "debug", "notice", null })]
    [InlineData("error", new[] { "error", "err", "critical", "panic", "alert" }, new[] { "warning", "info" })]
    [InlineData("debug", new[] { "debug", "info", "warning", "error" }, new[] { "verbose-ish", null })]
    public void Level_keeps_that_level_and_more_severe_ones(string level, string[] kept, string?[] dropped)
    {
        var f = LogFilter.Create(new LogQuery(Level: level));
        Assert.All(kept, l => Assert.True(f.Matches(E("m", l)), l));
        Assert.All(dropped, l => Assert.False(f.Matches(E("m", l)), l ?? "(none)"));
    }

    [Fact]
    public void Instance_matches_the_whole_instance_or_its_parts_with_wildcards()
    {
        var pod = LogFilter.Create(new LogQuery(Instance: "marketing-7d9f*"));
        Assert.True(pod.Matches(E("m", instance: "pod/marketing-7d9f8b6c5d-xyz12/web")));
        Assert.False(pod.Matches(E("m", instance: "pod/marketing-6c5b4a3f2e-abcde/web")));
        var host = LogFilter.Create(new LogQuery(Instance: "api-1"));
        Assert.True(host.Matches(E("m", instance: "api-1[4242]")));
        Assert.False(host.Matches(E("m", instance: "api-10[4242]")));
        Assert.False(host.Matches(E("m", instance: null)));
        Assert.True(LogFilter.Create(new LogQuery(Instance: "POD/Marketing-7D9F8B6C5D-XYZ12/web")).Matches(E("m", instance: "pod/marketing-7d9f8b6c5d-xyz12/web")));
    }

    [Fact]
    public void Pattern_and_level_combine_and_bad_input_has_its_error_id()
    {
        var f = LogFilter.Create(new LogQuery(Pattern: "memory|cpu", Level: "warning"));
        Assert.True(f.Matches(E("Out of MEMORY", "error")));
        Assert.False(f.Matches(E("Out of memory", "info")));
        Assert.False(f.Matches(E("disk full", "error")));
        Assert.Equal(PlatformErrorIds.InvalidPattern, Assert.Throws<IncidentOpsException>(() => LogFilter.Create(new LogQuery(Pattern: "(["))).ErrorId);
        var ex = Assert.Throws<IncidentOpsException>(() => LogFilter.Create(new LogQuery(Level: "loud")));
        Assert.Equal(PlatformErrorIds.LogLevelInvalid, ex.ErrorId);
        Assert.Contains("warning", ex.Message);
    }

    // ---------------------------------------------------------------- JsonValueFramer

    [Fact]
    public void The_framer_returns_each_pretty_printed_value_once_it_is_complete()
    {
        var framer = new JsonValueFramer();
        var values = new List<string>();
        foreach (var line in File.ReadAllLines(FakeCli.Fixture("fly-logs.json")))
        {
            var got = framer.Add(line);
            values.AddRange(got);
        }
        Assert.Equal(3, values.Count);
        Assert.Null(framer.Rest);
        Assert.All(values, v => Assert.StartsWith("{", v));
        Assert.Contains("\"message\": \"GET /health 200 3ms\"", values[0]);
        // A brace inside a string does not end the value; text outside a value comes back on its own.
        Assert.Empty(framer.Add("{\"message\": \"a } b"));
        Assert.Single(framer.Add("\"}"));
        Assert.Equal(["Error: not JSON"], framer.Add("  Error: not JSON"));
    }
}
