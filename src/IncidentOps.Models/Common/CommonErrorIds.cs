namespace IncidentOps;

/// <summary>The error ids of the Common area: part of the contract (scripts match FullyQualifiedErrorId), so they are constants, and ErrorIdCoverageTests asserts every one in a test.</summary>
public static class CommonErrorIds
{
    /// <summary>An engine call failed in a way no other id describes (a bug: please report it).</summary>
    public const string UnexpectedError = "UnexpectedError";

    /// <summary>A secret: reference needs Get-Secret, and SecretManagement is not installed.</summary>
    public const string SecretManagementNotAvailable = "SecretManagementNotAvailable";

    /// <summary>Get-Secret could not read the named secret.</summary>
    public const string SecretNotFound = "SecretNotFound";

    /// <summary>A duration (parameter or config value) cannot be read.</summary>
    public const string DurationInvalid = "DurationInvalid";

    /// <summary>A duration is negative.</summary>
    public const string DurationNegative = "DurationNegative";

    /// <summary>A duration is longer than the longest allowed.</summary>
    public const string DurationOutOfRange = "DurationOutOfRange";

    /// <summary>A non-zero duration is under a millisecond (a [timespan] of ticks).</summary>
    public const string DurationTooSmall = "DurationTooSmall";

    /// <summary>A [decimal] number whose text is lost could be days (2d) or seconds.</summary>
    public const string DurationAmbiguous = "DurationAmbiguous";

    /// <summary>A piped object comes from another target than the one named on the command line.</summary>
    public const string PipelineTargetMismatch = "PipelineTargetMismatch";
}
