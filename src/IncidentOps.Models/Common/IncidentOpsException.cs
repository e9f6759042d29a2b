namespace IncidentOps;

/// <summary>Error categories the engine reports; names match System.Management.Automation.ErrorCategory.</summary>
public enum IncidentOpsErrorCategory
{
    NotSpecified,
    InvalidArgument,
    InvalidData,
    InvalidOperation,
    InvalidResult,
    ObjectNotFound,
    ResourceExists,
    ResourceUnavailable,
    ResourceBusy,
    ConnectionError,
    AuthenticationError,
    PermissionDenied,
    SecurityError,
    OperationTimeout,
    OperationStopped,
    NotImplemented,
    NotInstalled,
    NotEnabled,
    ParserError,
    ProtocolError,
    ReadError,
    WriteError,
    LimitsExceeded,
    QuotaExceeded,
    SyntaxError,
    DeviceError,
    CloseError,
    OpenError,
    FromStdErr,
}

/// <summary>
/// A failure the engine understands. ErrorId is part of the module's contract: cmdlets turn it into
/// the ErrorRecord's FullyQualifiedErrorId, and tests assert it. Messages are redacted of known secrets.
/// </summary>
public class IncidentOpsException : Exception
{
    public IncidentOpsException(string errorId, IncidentOpsErrorCategory category, string message, Exception? inner = null)
        : base(SecretRedactor.Redact(message), inner)
    {
        ErrorId = errorId;
        Category = category;
    }

    /// <summary>Stable identifier, e.g. PgConnectionFailed.</summary>
    public string ErrorId { get; }

    public IncidentOpsErrorCategory Category { get; }

    /// <summary>What the user can do about it, when known.</summary>
    public string? RecommendedAction { get; init; }

    /// <summary>The object the error is about (a target name, a pid, a URI), never a secret.</summary>
    public object? TargetObject { get; init; }

    public override string ToString() => $"{ErrorId}: {Message}";
}
