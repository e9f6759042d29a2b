using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: Xunit.TestFramework("IncidentOps.Tests.TestRunCleanupFramework", "IncidentOps.Tests")]

namespace IncidentOps.Tests;

/// <summary>
/// Work that must run once the whole test run is over: removing the run's temporary folder (Paths.TempRoot) and
/// stopping the servers the tests started themselves. It runs when the test assembly finishes, before xunit reports
/// the run as finished: `dotnet test` kills the test host soon after that report, so a ProcessExit handler alone
/// often never runs (that is how every run used to leave thousands of folders in /tmp). ProcessExit stays as the
/// fallback for hosts that end otherwise.
/// </summary>
public static class TestRunCleanup
{
    private static readonly CleanupList Run = new();
    private static int _hooked;

    /// <summary>Runs <paramref name="action"/> at the end of the test run (last registered, first run).</summary>
    public static void Register(Action action)
    {
        Run.Add(action);
        if (Interlocked.Exchange(ref _hooked, 1) == 0) AppDomain.CurrentDomain.ProcessExit += (_, _) => Run.RunAll();
    }

    /// <summary>Runs and forgets every registered action.</summary>
    public static void RunAll() => Run.RunAll();
}

/// <summary>Actions run once, last added first; one that throws is reported on stderr and does not stop the others.</summary>
public sealed class CleanupList
{
    private readonly List<Action> _actions = [];

    public void Add(Action action)
    {
        lock (_actions) _actions.Add(action);
    }

    public void RunAll()
    {
        Action[] actions;
        lock (_actions)
        {
            actions = [.. _actions];
            _actions.Clear();
        }
        for (var i = actions.Length - 1; i >= 0; i--)
        {
            try { actions[i](); }
            catch (Exception ex) { Console.Error.WriteLine($"test run cleanup failed: {ex.Message}"); }
        }
    }
}

/// <summary>xunit's own framework, with <see cref="TestRunCleanup.RunAll"/> when the assembly's tests are done.</summary>
public sealed class TestRunCleanupFramework(IMessageSink messageSink) : XunitTestFramework(messageSink)
{
    protected override ITestFrameworkExecutor CreateExecutor(AssemblyName assemblyName) =>
        new Executor(assemblyName, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class Executor(AssemblyName name, ISourceInformationProvider info, IMessageSink diagnostics)
        : XunitTestFrameworkExecutor(name, info, diagnostics)
    {
        protected override async void RunTestCases(IEnumerable<IXunitTestCase> testCases, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions)
        {
            using var runner = new Runner(TestAssembly, testCases, DiagnosticMessageSink, executionMessageSink, executionOptions);
            await runner.RunAsync();
        }
    }

    private sealed class Runner(ITestAssembly assembly, IEnumerable<IXunitTestCase> testCases, IMessageSink diagnostics, IMessageSink execution, ITestFrameworkExecutionOptions options)
        : XunitTestAssemblyRunner(assembly, testCases, diagnostics, execution, options)
    {
        protected override async Task BeforeTestAssemblyFinishedAsync()
        {
            await base.BeforeTestAssemblyFinishedAsync();
            TestRunCleanup.RunAll();
        }
    }
}
