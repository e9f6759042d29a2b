using System.Management.Automation;
using IncidentOps.Engine;

namespace IncidentOps.Commands;

/// <summary>Error mapping: engine exceptions become ErrorRecords whose id is the exception's ErrorId, with secrets masked.</summary>
internal static class ErrorMapping
{
    /// <summary>Turns an engine exception into an ErrorRecord whose id is the exception's ErrorId.</summary>
    public static ErrorRecord ToErrorRecord(IncidentOpsException ex, object? target = null)
    {
        var category = Enum.TryParse<ErrorCategory>(ex.Category.ToString(), out var c) ? c : ErrorCategory.NotSpecified;
        var record = new ErrorRecord(ex, ex.ErrorId, category, Redacted(target ?? ex.TargetObject));
        record.ErrorDetails = new ErrorDetails(SecretRedactor.Redact(ex.Message));
        if (ex.RecommendedAction is not null) record.ErrorDetails.RecommendedAction = SecretRedactor.Redact(ex.RecommendedAction);
        return record;
    }

    /// <summary>An engine exception for bad input.</summary>
    public static ErrorRecord InputError(string errorId, string message, object? target, IncidentOpsErrorCategory category) =>
        ToErrorRecord(new IncidentOpsException(errorId, category, message), target);

    private static object? Redacted(object? target) => target is string s ? SecretRedactor.Redact(s) : target;
}
