namespace IncidentOps.Engine;

/// <summary>A progress report from long work (fan-out, watch loops, rollouts).</summary>
public sealed record OperationProgress(int ActivityId, string Activity, string Status, int PercentComplete = -1, int SecondsRemaining = -1, bool Completed = false);

/// <summary>
/// How the engine talks back to whoever called it. The module implements it by queueing to the pipeline
/// thread; tests implement it by collecting. The engine never sees a Cmdlet and never writes to Console.
/// </summary>
public interface IOperationSink
{
    void Verbose(string message);
    void Warning(string message);
    void Debug(string message);
    void Progress(OperationProgress progress);
}

/// <summary>Resolves secret:NAME references (through Get-Secret in the module).</summary>
public interface ISecretProvider
{
    Task<string?> GetSecretAsync(string name, CancellationToken cancellationToken);
}

/// <summary>A sink that drops everything (engine tests, background work).</summary>
public sealed class NullSink : IOperationSink
{
    public static readonly NullSink Instance = new();
    public void Verbose(string message) { }
    public void Warning(string message) { }
    public void Debug(string message) { }
    public void Progress(OperationProgress progress) { }
}

/// <summary>A sink that keeps everything, redacted, for tests and for evidence capture.</summary>
public sealed class CollectingSink : IOperationSink
{
    private readonly object _gate = new();
    public List<string> VerboseMessages { get; } = [];
    public List<string> Warnings { get; } = [];
    public List<string> DebugMessages { get; } = [];
    public List<OperationProgress> ProgressReports { get; } = [];
    public void Verbose(string message) { lock (_gate) VerboseMessages.Add(SecretRedactor.Redact(message)); }
    public void Warning(string message) { lock (_gate) Warnings.Add(SecretRedactor.Redact(message)); }
    public void Debug(string message) { lock (_gate) DebugMessages.Add(SecretRedactor.Redact(message)); }
    public void Progress(OperationProgress progress) { lock (_gate) ProgressReports.Add(progress); }
}

/// <summary>Secret provider for contexts where SecretManagement is not available.</summary>
public sealed class NoSecretProvider : ISecretProvider
{
    public static readonly NoSecretProvider Instance = new();
    public Task<string?> GetSecretAsync(string name, CancellationToken cancellationToken) =>
        throw new IncidentOpsException(CommonErrorIds.SecretManagementNotAvailable, IncidentOpsErrorCategory.NotInstalled,
            $"The secret '{name}' cannot be read: Microsoft.PowerShell.SecretManagement is not available here. Install it (Install-PSResource Microsoft.PowerShell.SecretManagement) and register a vault, or use an env: or file: reference instead.");
}
