using System.Runtime.CompilerServices;

namespace IncidentOps.Tests;

internal static class TestHostSetup
{
    /// <summary>
    /// The test host runs up to four test classes at once, and each hosted runspace blocks a pool thread while its
    /// cmdlet pumps engine work. With the default minimum the pool adds threads about once a second when starved,
    /// so a cancellation callback or a timer could wait seconds for a thread: what a Ctrl+C or deadline test then
    /// measures is the test host, not the module. A real pwsh runs one pipeline and never starves like this.
    /// </summary>
    [ModuleInitializer]
    internal static void RaiseThreadPoolMinimum()
    {
        ThreadPool.GetMinThreads(out var worker, out var io);
        ThreadPool.SetMinThreads(Math.Max(worker, 64), Math.Max(io, 64));
    }
}
