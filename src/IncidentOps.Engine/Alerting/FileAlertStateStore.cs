using System.Text.Json;
using IncidentOps.Engine.Incidents;

namespace IncidentOps.Engine.Alerting;

/// <summary>
/// The alerting state of the file store: one document (state.json, every service) in an alerting/ folder under the
/// store's root, replaced atomically. Each service has its own lock file (held across a round's decide-and-act
/// step); a short lock on the document serialises the saves of different services.
/// </summary>
public sealed class FileAlertStateStore : IAlertStateStore
{
    private static readonly TimeSpan DocumentLockTimeout = TimeSpan.FromSeconds(30);

    public FileAlertStateStore(string folder)
    {
        Folder = folder;
    }

    /// <summary>The alerting/ folder.</summary>
    public string Folder { get; }
    public string Identity => Path.TrimEndingDirectorySeparator(Path.GetFullPath(Folder));
    private string StateFile => Path.Combine(Folder, "state.json");

    public async Task<IAlertStateLease> LockAsync(string service, TimeSpan timeout, CancellationToken cancellationToken)
    {
        EnsureFolder();
        FileLock held;
        try
        {
            held = await FileLock.AcquireAsync(Path.Combine(Folder, LockName(service)), timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (IncidentOpsException ex) when (ex.ErrorId == IncidentErrorIds.StoreLockTimeout)
        {
            throw new IncidentOpsException(AlertingErrorIds.StateBusy, IncidentOpsErrorCategory.ResourceBusy,
                $"The alerting state of {service} stayed locked for {timeout.TotalSeconds:0} s: another alerting round is still working on it (or is stuck). " +
                "This round left the service alone; the next round picks it up.", ex) { TargetObject = service };
        }
        try
        {
            var state = (await ReadAllAsync(cancellationToken).ConfigureAwait(false)).GetValueOrDefault(service) ?? new ServiceAlertState { Service = service };
            return new Lease(this, held, state);
        }
        catch
        {
            await held.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<ServiceAlertState?> GetAsync(string service, CancellationToken cancellationToken) =>
        (await ReadAllAsync(cancellationToken).ConfigureAwait(false)).GetValueOrDefault(service);

    public async Task<IReadOnlyList<ServiceAlertState>> ListAsync(CancellationToken cancellationToken) =>
        (await ReadAllAsync(cancellationToken).ConfigureAwait(false)).Values.OrderBy(s => s.Service, StringComparer.Ordinal).ToList();

    private async Task SaveAsync(ServiceAlertState state, CancellationToken cancellationToken)
    {
        EnsureFolder();
        FileLock document;
        try { document = await FileLock.AcquireAsync(Path.Combine(Folder, ".state.lock"), DocumentLockTimeout, cancellationToken).ConfigureAwait(false); }
        catch (IncidentOpsException ex) when (ex.ErrorId == IncidentErrorIds.StoreLockTimeout) { throw Unavailable(ex.Message, ex); }
        await using (document)
        {
            var all = await ReadAllAsync(cancellationToken).ConfigureAwait(false);
            all[state.Service] = state.Clone();
            var text = JsonSerializer.Serialize(all.Values.OrderBy(s => s.Service, StringComparer.Ordinal), FileIncidentStore.Json);
            // Saved even when the round is being cancelled: the state must match what was already done.
            try { await FileIncidentStore.WriteAtomicAsync(StateFile, text, CancellationToken.None).ConfigureAwait(false); }
            catch (IOException ex) { throw Unavailable(ex.Message, ex); }
        }
    }

    private async Task<Dictionary<string, ServiceAlertState>> ReadAllAsync(CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, ServiceAlertState>(StringComparer.OrdinalIgnoreCase);
        string text;
        try
        {
            if (!File.Exists(StateFile)) return result;
            text = await File.ReadAllTextAsync(StateFile, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { throw Unavailable(ex.Message, ex); }
        try
        {
            foreach (var s in JsonSerializer.Deserialize<List<ServiceAlertState>>(text, FileIncidentStore.Json) ?? []) result[s.Service] = s;
        }
        catch (JsonException ex)
        {
            throw new IncidentOpsException(AlertingErrorIds.StateCorrupt, IncidentOpsErrorCategory.InvalidData,
                $"The alerting state '{StateFile}' is not valid JSON (line {ex.LineNumber + 1}): {ex.Message}. Move it aside: the next round starts counting afresh " +
                "and attaches to the incidents still open for its services.", ex) { TargetObject = StateFile };
        }
        return result;
    }

    private void EnsureFolder()
    {
        try { Directory.CreateDirectory(Folder); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (StoreFaults.Translate(ex, Folder) is { } fault) throw fault;
            throw Unavailable(ex.Message, ex);
        }
    }

    private IncidentOpsException Unavailable(string reason, Exception inner) =>
        new(AlertingErrorIds.StoreUnavailable, IncidentOpsErrorCategory.ResourceUnavailable,
            $"The alerting state in '{Folder}' could not be read or written: {reason}. Check that the incident store (store.path) is reachable and writable; " +
            "the round did nothing more for this service, and the next round carries on from the last saved state.", inner) { TargetObject = Folder };

    private static string LockName(string service) =>
        "service-" + string.Concat(service.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')) + ".lock";

    private sealed class Lease(FileAlertStateStore store, FileLock held, ServiceAlertState state) : IAlertStateLease
    {
        public ServiceAlertState State { get; } = state;
        public Task SaveAsync(ServiceAlertState state, CancellationToken cancellationToken) => store.SaveAsync(state, cancellationToken);
        public ValueTask DisposeAsync() => held.DisposeAsync();
    }
}
