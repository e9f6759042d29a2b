using System.Runtime.CompilerServices;

namespace IncidentOps.Infrastructure;

internal static class EngineBootstrap
{
    /// <summary>
    /// Installs the engine resolver as soon as anything in this assembly runs, so that no code path can
    /// touch the engine before it is resolvable (OnImport does the same; both are idempotent).
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize() => ModuleInitializer.Hook();
}
