using System.Runtime.CompilerServices;

namespace IncidentOps.Infrastructure;

/// <summary>
/// The one mechanism that makes the engine loadable: a module initializer that hooks the resolver before any code of
/// this assembly runs.
/// </summary>
/// <remarks>
/// IncidentOps.Engine lives in Dependencies/ and loads only through <see cref="ModuleLoadContext"/>, which the default
/// context reaches through the Resolving handler of <see cref="ModuleInitializer"/>. The runtime resolves the engine
/// when it JIT-compiles the first method that names an engine type. A [ModuleInitializer] runs before any type or
/// method of this assembly is touched (a cmdlet class, a completer, a test that loads the DLL by reflection), so by
/// the time any method can be compiled the handler is in place. That makes the old alternative, a
/// [MethodImpl(NoInlining)] on each method that touches the engine so that it is compiled only after OnImport, both
/// redundant and fragile (a new method without the attribute would have broken loading at random), so it was removed.
/// OnImport hooks too, for a re-import after Remove-Module (which unhooks); both calls are idempotent.
/// </remarks>
internal static class EngineBootstrap
{
    [ModuleInitializer]
    internal static void Initialize() => ModuleInitializer.Hook();
}
