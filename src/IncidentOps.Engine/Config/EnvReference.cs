namespace IncidentOps.Engine.Config;

/// <summary>
/// The one rule for env:NAME references, in incidentops.yml and in parameters (-AppId env:DO_APP_ID): the variable
/// must be set and not empty. An unset variable is an error that names it, never the text "env:NAME" passed on as
/// if it were the value (a literal "env:DO_APP_ID" reached doctl as an app id).
/// </summary>
public static class EnvReference
{
    public const string Prefix = "env:";

    /// <summary>True when <paramref name="value"/> is written as env:NAME.</summary>
    public static bool IsReference(string? value) => value is not null && value.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The value of the variable, or null when it is unset or empty.</summary>
    public static string? Read(string name) => System.Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;

    /// <summary>Why an unset variable does not resolve, and what to do.</summary>
    public static string NotSet(string name) =>
        $"the environment variable {name} is not set. Set it (export {name}=..., or $env:{name} = '...') or change the reference.";

    /// <summary>
    /// Resolves a parameter value: env:NAME gives the variable's value, anything else is returned as it is. An unset
    /// variable throws ConfigReferenceUnresolved, naming the parameter and the variable.
    /// </summary>
    public static string? Resolve(string? value, string parameter)
    {
        if (!IsReference(value)) return value;
        var name = value![Prefix.Length..];
        if (name.Length == 0)
            throw new IncidentOpsException(ConfigErrorIds.ConfigReferenceUnresolved, IncidentOpsErrorCategory.InvalidArgument,
                $"{parameter} '{value}' is a reference with no name. Write env:NAME.") { TargetObject = value };
        return Read(name) ?? throw new IncidentOpsException(ConfigErrorIds.ConfigReferenceUnresolved, IncidentOpsErrorCategory.ObjectNotFound,
            $"{parameter} '{value}' does not resolve: {NotSet(name)}") { TargetObject = value };
    }
}
