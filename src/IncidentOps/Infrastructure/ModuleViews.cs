using System.ComponentModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;

namespace IncidentOps.Infrastructure;

/// <summary>
/// Loads the module's format views (IncidentOps.format.ps1xml) into a session when they are first needed, instead of
/// at <c>Import-Module</c>. Any format file a module lists makes PowerShell rebuild the session's whole format table,
/// built-in views included, on the importing thread (bench/import/README.md): the largest part of the import. So
/// IncidentOps.psd1 lists none, and the views come with a second, views-only manifest (IncidentOps.Views.psd1, written by
/// the build), imported once per runspace:
/// <list type="bullet">
/// <item>when an interactive prompt is idle (the <c>PowerShell.OnIdle</c> engine event, raised by PSReadLine while it
/// waits for a key), so the first command typed finds them loaded and pays nothing;</item>
/// <item>otherwise at the start of the first IncidentOps command (its BeginProcessing), before it writes any object, so a
/// script formats the same output as before, for the same total time (Import-Module binds them as it did at import).</item>
/// </list>
/// <c>Remove-Module IncidentOps</c> removes IncidentOps.Views with it. Not meant to be called by users; public only so the
/// idle event's action can reach it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ModuleViews
{
    internal const string FileName = "IncidentOps.format.ps1xml";
    internal const string ViewsModuleName = "IncidentOps.Views";

    /// <summary>Runspaces this class loaded the views into (or found them in); cleared by <see cref="Unload"/>.</summary>
    private static readonly ConditionalWeakTable<Runspace, object> LoadedIn = new();
    private static readonly object Marker = new();
    private static readonly ConditionalWeakTable<Runspace, PSEventSubscriber> IdleSubscriptions = new();

    internal static string FormatFile => Path.Combine(ModuleInitializer.ModuleDirectory, FileName);

    internal static string ViewsManifest => Path.Combine(ModuleInitializer.ModuleDirectory, ViewsModuleName + ".psd1");

    /// <summary>True when this module's views were loaded into <paramref name="runspace"/> by this class.</summary>
    internal static bool AreLoaded(Runspace runspace) => LoadedIn.TryGetValue(runspace, out _);

    /// <summary>
    /// At import: asks to be called once when the session's prompt is next idle (hidden from Get-EventSubscriber). A
    /// session that never idles (a script, a hosted runspace) loads the views at its first IncidentOps command instead.
    /// </summary>
    internal static void LoadWhenIdle()
    {
        var runspace = Runspace.DefaultRunspace;
        if (runspace is null || AreLoaded(runspace) || IdleSubscriptions.TryGetValue(runspace, out _)) return;
        try
        {
            var subscriber = runspace.Events.SubscribeEvent(
                source: null, eventName: null, sourceIdentifier: PSEngineEvent.OnIdle, data: null,
                action: ScriptBlock.Create("[IncidentOps.Infrastructure.ModuleViews]::LoadIntoCurrentSession()"),
                supportEvent: true, forwardEvent: false, maxTriggerCount: 1);
            IdleSubscriptions.AddOrUpdate(runspace, subscriber);
        }
        catch (Exception ex) when (ex is PSInvalidOperationException or InvalidOperationException or NotSupportedException or ParseException)
        {
            // No event manager here (a restricted host): the first command loads the views.
        }
    }

    /// <summary>
    /// At Remove-Module: drops a pending idle load and removes the views module this class imported, so the session is as
    /// before the import and a new import loads the views again.
    /// </summary>
    internal static void Unload()
    {
        var runspace = Runspace.DefaultRunspace;
        if (runspace is null) return;
        if (IdleSubscriptions.TryGetValue(runspace, out var subscriber))
        {
            IdleSubscriptions.Remove(runspace);
            try { runspace.Events.UnsubscribeEvent(subscriber); }
            catch (Exception ex) when (ex is PSInvalidOperationException or InvalidOperationException or ArgumentException)
            {
                // Already gone (it fired once and removed itself).
            }
        }
        if (!LoadedIn.TryGetValue(runspace, out _)) return;
        LoadedIn.Remove(runspace);
        try
        {
            using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
            ps.AddCommand("Microsoft.PowerShell.Core\\Get-Module").AddParameter("Name", ViewsModuleName)
                .AddCommand("Microsoft.PowerShell.Core\\Remove-Module").AddParameter("Force");
            ps.Invoke();
        }
        catch (Exception ex) when (ex is RuntimeException or PSInvalidOperationException or InvalidOperationException)
        {
            // The views stay in the session (they name only IncidentOps types); a new import does not load them twice.
        }
    }

    /// <summary>The idle event's action. Loads the views into the session whose pipeline thread runs it.</summary>
    public static void LoadIntoCurrentSession()
    {
        var runspace = Runspace.DefaultRunspace;
        if (runspace is not null) IdleSubscriptions.Remove(runspace);
        EnsureLoaded(verbose: null);
    }

    /// <summary>
    /// Loads the views into the current runspace unless this class or the session already did. Runs on the pipeline
    /// thread (a command's BeginProcessing, the idle action). A failure is told through <paramref name="verbose"/> and never
    /// stops the command: without its views the output is still all there, as PowerShell's default table or list.
    /// </summary>
    internal static void EnsureLoaded(Action<string>? verbose)
    {
        var runspace = Runspace.DefaultRunspace;
        if (runspace is null || AreLoaded(runspace)) return;
        var file = FormatFile;
        // Marked first: the Import-Module below runs in this runspace and must not come back here.
        LoadedIn.AddOrUpdate(runspace, Marker);
        if (InSession(runspace, file)) return;
        var manifest = ViewsManifest;
        if (!File.Exists(file) || !File.Exists(manifest))
        {
            verbose?.Invoke($"The format views were not loaded: '{(File.Exists(file) ? manifest : file)}' is missing from the module folder. Output is shown in PowerShell's default layout; reinstall the module to restore the views.");
            return;
        }
        try
        {
            using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
            ps.AddCommand("Microsoft.PowerShell.Core\\Import-Module").AddParameter("Name", manifest).AddParameter("Global");
            ps.Invoke();
            if (ps.HadErrors)
                verbose?.Invoke($"The format views in '{file}' were not all loaded: {string.Join("; ", ps.Streams.Error.Select(e => e.ToString()))}");
        }
        catch (Exception ex) when (ex is RuntimeException or PSInvalidOperationException or InvalidOperationException)
        {
            verbose?.Invoke($"The format views in '{file}' were not loaded ({ex.Message}). Output is shown in PowerShell's default layout.");
        }
    }

    private static bool InSession(Runspace runspace, string file)
    {
        try
        {
            return runspace.InitialSessionState?.Formats.Any(f => string.Equals(f.FileName, file, StringComparison.Ordinal)) == true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
