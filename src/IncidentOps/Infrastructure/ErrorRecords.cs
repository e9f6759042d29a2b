using System.Management.Automation;
using IncidentOps.Engine;

namespace IncidentOps.Commands;

/// <summary>Error mapping: engine exceptions become ErrorRecords whose id is the exception's ErrorId, with message and target masked.</summary>
internal static class ErrorRecords
{
    /// <summary>Turns an engine exception into an ErrorRecord whose id is the exception's ErrorId.</summary>
    public static ErrorRecord From(IncidentOpsException ex, object? target = null)
    {
        var category = Enum.TryParse<ErrorCategory>(ex.Category.ToString(), out var c) ? c : ErrorCategory.NotSpecified;
        var record = new ErrorRecord(ex, ex.ErrorId, category, Redacted(target ?? ex.TargetObject));
        record.ErrorDetails = new ErrorDetails(SecretRedactor.Redact(ex.Message));
        if (ex.RecommendedAction is not null) record.ErrorDetails.RecommendedAction = SecretRedactor.Redact(ex.RecommendedAction);
        return record;
    }

    /// <summary>A bad-input error: says what was wrong, with what value, and what to do.</summary>
    public static ErrorRecord Input(string errorId, string message, object? target, IncidentOpsErrorCategory category) =>
        From(new IncidentOpsException(errorId, category, message), target);

    private static object? Redacted(object? target) => target is string s ? SecretRedactor.Redact(s) : target;
}
