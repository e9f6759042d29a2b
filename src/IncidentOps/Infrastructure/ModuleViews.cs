using System.ComponentModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;

namespace IncidentOps.Infrastructure;

/// <summary>
/// Loads the module's format views (IncidentOps.format.ps1xml) into a session when they are first needed, instead of
/// at <c>Import-Module</c>. Any format file a module lists makes PowerShell rebuild the session's whole format table,
/// built-in views included, on the importing thread (bench/import/README.md): the largest part of the import. The views
/// are loaded, once per runspace:
/// <list type="bullet">
/// <item>when an interactive prompt is idle (the <c>PowerShell.OnIdle</c> engine event, raised by PSReadLine while it
/// waits for a key), so the first command typed finds them loaded and pays nothing;</item>
/// <item>otherwise at the start of the first IncidentOps command (its BeginProcessing), before it writes any object, so a
/// script formats the same output as before.</item>
/// </list>
/// Views already in the session (an older manifest that listed the file, a user's <c>Update-FormatData</c>) are not
/// loaded twice. Not meant to be called by users; public only so the idle event's action can reach it.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ModuleViews
{
    internal const string FileName = "IncidentOps.format.ps1xml";

    private sealed class Loaded
    {
        public required string Path { get; init; }
    }

    private static readonly ConditionalWeakTable<Runspace, Loaded> LoadedIn = new();
    private static readonly ConditionalWeakTable<Runspace, PSEventSubscriber> IdleSubscriptions = new();

    internal static string FormatFile => Path.Combine(ModuleInitializer.ModuleDirectory, FileName);

    /// <summary>True when this module's views were loaded into <paramref name="runspace"/> by this class.</summary>
    internal static bool AreLoaded(Runspace runspace) => LoadedIn.TryGetValue(runspace, out var l) && l.Path == FormatFile;

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

    /// <summary>At Remove-Module: drops a pending idle load. Views already loaded stay, as Update-FormatData's do.</summary>
    internal static void CancelIdleLoad()
    {
        var runspace = Runspace.DefaultRunspace;
        if (runspace is null || !IdleSubscriptions.TryGetValue(runspace, out var subscriber)) return;
        IdleSubscriptions.Remove(runspace);
        try { runspace.Events.UnsubscribeEvent(subscriber); }
        catch (Exception ex) when (ex is PSInvalidOperationException or InvalidOperationException or ArgumentException)
        {
            // Already gone (it fired once and removed itself).
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
        // Marked first: Update-FormatData below runs commands of its own in this runspace, which must not come back here.
        LoadedIn.AddOrUpdate(runspace, new Loaded { Path = file });
        if (InSession(runspace, file)) return;
        if (!File.Exists(file))
        {
            verbose?.Invoke($"The format views were not loaded: '{file}' is missing from the module folder. Output is shown in PowerShell's default layout; reinstall the module to restore the views.");
            return;
        }
        try
        {
            using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
            ps.AddCommand("Microsoft.PowerShell.Utility\\Update-FormatData").AddParameter("PrependPath", file);
            ps.Invoke();
            if (ps.HadErrors)
                verbose?.Invoke($"The format views in '{file}' were not all loaded: {string.Join("; ", ps.Streams.Error.Select(e => e.ToString()))}");
        }
        catch (CommandNotFoundException)
        {
            // A host with only the core cmdlets (an application on the System.Management.Automation package alone).
            verbose?.Invoke($"The format views in '{file}' were not loaded: this session has no Update-FormatData (module Microsoft.PowerShell.Utility). Output is shown in PowerShell's default layout; run the commands in pwsh, or add that module to the host, for the module's tables.");
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
