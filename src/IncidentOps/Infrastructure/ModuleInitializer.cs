using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace IncidentOps.Infrastructure;

/// <summary>
/// Hooks the default context's Resolving event on import so that IncidentOps.Engine (and through it,
/// every dependency) is loaded in <see cref="ModuleLoadContext"/>. The handler answers only for the
/// engine's name, so it never changes how anything else in the session resolves. The format views are not bound at import
/// (the manifest lists no FormatsToProcess): <see cref="ModuleViews"/> loads them when the prompt is idle or at the first
/// command.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    internal const string EngineAssemblyName = "IncidentOps.Engine";
    private static readonly object Gate = new();
    private static ModuleLoadContext? _context;
    private static bool _hooked;

    internal static string ModuleDirectory { get; } = Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location) ?? ".";

    internal static string DependencyDirectory => Path.Combine(ModuleDirectory, "Dependencies");

    public void OnImport()
    {
        Hook();
        ModuleViews.LoadWhenIdle();
    }

    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        ModuleViews.Unload();
        lock (Gate)
        {
            if (!_hooked) return;
            AssemblyLoadContext.Default.Resolving -= ResolveEngine;
            _hooked = false;
        }
    }

    internal static void Hook()
    {
        lock (Gate)
        {
            if (_hooked) return;
            AssemblyLoadContext.Default.Resolving += ResolveEngine;
            _hooked = true;
        }
    }

    private static Assembly? ResolveEngine(AssemblyLoadContext context, AssemblyName name)
    {
        if (!string.Equals(name.Name, EngineAssemblyName, StringComparison.Ordinal)) return null;
        lock (Gate)
        {
            _context ??= new ModuleLoadContext(DependencyDirectory);
        }
        return _context.LoadFromAssemblyName(name);
    }
}
