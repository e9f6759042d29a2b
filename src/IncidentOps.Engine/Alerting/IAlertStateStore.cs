namespace IncidentOps.Engine.Alerting;

/// <summary>
/// Where the alerting state of each service lives between runs: in the incident store (a file beside the file
/// store's incidents; a table in the team store), never in the script that runs the round.
/// </summary>
/// <remarks>
/// The contract every implementation keeps (AlertStateStoreContract in the tests runs it against each one):
/// <list type="bullet">
/// <item><see cref="LockAsync"/> gives one holder at a time per service, across processes and hosts; a second caller
/// waits, up to the timeout, and then fails with <see cref="AlertingErrorIds.StateBusy"/>. Different services never
/// wait for each other. The lock is held across the whole decide-and-act step of a round for that service, which is
/// what makes two overlapping schedulers declare one incident, not two.</item>
/// <item>The lease's <see cref="IAlertStateLease.State"/> is the last saved state (a fresh <see cref="AlertPhase.Clear"/>
/// state for a service never seen), read after the lock was taken.</item>
/// <item><see cref="IAlertStateLease.SaveAsync"/> is durable when it returns (a process killed right after it loses
/// nothing), replaces the whole state of that service only, and may be called several times under one lease (the
/// round saves right after declaring, before it sends anything). A failed save leaves the previous state whole.</item>
/// <item>Disposing the lease releases the lock; a holder that dies releases it too (file handles and database
/// sessions close with the process).</item>
/// <item><see cref="GetAsync"/> and <see cref="ListAsync"/> read without locking (for -WhatIf previews).</item>
/// <item>A store that cannot be reached fails with <see cref="AlertingErrorIds.StoreUnavailable"/> (or the store's
/// own StoreReadOnly / StoreDiskFull), never with a raw driver exception.</item>
/// </list>
/// Implementations: <see cref="FileAlertStateStore"/> (file store) and <see cref="PostgresAlertStateStore"/> (team store:
/// table alert_state, service text primary key, state json; the lock a session-level advisory lock on a hash of schema
/// and service held on the lease's own connection; SaveAsync an autocommitted upsert on it).
/// </remarks>
public interface IAlertStateStore
{
    /// <summary>Which store this is (no credential in it).</summary>
    string Identity { get; }

    /// <summary>Takes the service's lock (waiting up to <paramref name="timeout"/>) and reads its state.</summary>
    Task<IAlertStateLease> LockAsync(string service, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>The saved state of a service, or null; no lock.</summary>
    Task<ServiceAlertState?> GetAsync(string service, CancellationToken cancellationToken);

    /// <summary>Every saved state, ordered by service; no lock.</summary>
    Task<IReadOnlyList<ServiceAlertState>> ListAsync(CancellationToken cancellationToken);
}

/// <summary>A held service lock with the state read under it.</summary>
public interface IAlertStateLease : IAsyncDisposable
{
    /// <summary>The state as read under the lock; a fresh Clear state when the service has none yet.</summary>
    ServiceAlertState State { get; }

    /// <summary>Saves the service's state durably (see the contract on <see cref="IAlertStateStore"/>).</summary>
    Task SaveAsync(ServiceAlertState state, CancellationToken cancellationToken);
}
