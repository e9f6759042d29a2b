namespace IncidentOps.Engine.Config;

/// <summary>The error ids of the Config area: part of the contract (scripts match FullyQualifiedErrorId), so they are constants, and ErrorIdCoverageTests asserts every one in a test.</summary>
public static class ConfigErrorIds
{
    /// <summary>No configured service matches the given name.</summary>
    public const string ServiceNotFound = "ServiceNotFound";

    /// <summary>An env:, file: or secret: reference (in incidentops.yml or a parameter) does not resolve.</summary>
    public const string ConfigReferenceUnresolved = "ConfigReferenceUnresolved";

    /// <summary>incidentops.yml has errors (each is listed with file, line and column).</summary>
    public const string ConfigInvalid = "ConfigInvalid";

    /// <summary>The named configuration file (-ConfigPath, $env:INCIDENTOPS_CONFIG) does not exist.</summary>
    public const string ConfigNotFound = "ConfigNotFound";

    /// <summary>The configuration file exists but cannot be read.</summary>
    public const string ConfigUnreadable = "ConfigUnreadable";

    /// <summary>The configuration file is larger than a configuration can be.</summary>
    public const string ConfigTooLarge = "ConfigTooLarge";

    /// <summary>The YAML nests deeper than a configuration can.</summary>
    public const string ConfigTooDeep = "ConfigTooDeep";

    /// <summary>The file is not valid YAML.</summary>
    public const string ConfigSyntaxError = "ConfigSyntaxError";

    /// <summary>The file's version is not one this module reads.</summary>
    public const string ConfigUnsupportedVersion = "ConfigUnsupportedVersion";

    /// <summary>A value has the wrong shape (a list where a map belongs, and so on).</summary>
    public const string ConfigInvalidShape = "ConfigInvalidShape";

    /// <summary>A required field is missing.</summary>
    public const string ConfigMissingField = "ConfigMissingField";

    /// <summary>A value is not one of the allowed values or out of range.</summary>
    public const string ConfigInvalidValue = "ConfigInvalidValue";

    /// <summary>A duration in the file cannot be read.</summary>
    public const string ConfigInvalidDuration = "ConfigInvalidDuration";

    /// <summary>A platform name (app, deployment, unit, host) is not valid for its platform.</summary>
    public const string ConfigInvalidName = "ConfigInvalidName";

    /// <summary>A reference has no name (env: with nothing after it), or stands where only a name as written is taken (a service's host, context, app, unit ...).</summary>
    public const string ConfigInvalidReference = "ConfigInvalidReference";

    /// <summary>A URL in the file is not an absolute URL of the right scheme.</summary>
    public const string ConfigInvalidUrl = "ConfigInvalidUrl";

    /// <summary>A key the configuration does not know (a typo is the usual cause).</summary>
    public const string ConfigUnknownKey = "ConfigUnknownKey";

    /// <summary>A platform the module does not know.</summary>
    public const string ConfigUnknownPlatform = "ConfigUnknownPlatform";

    /// <summary>A service names a notification channel that is not defined.</summary>
    public const string ConfigUnknownChannel = "ConfigUnknownChannel";

    /// <summary>A channel type the module does not know.</summary>
    public const string ConfigUnknownChannelType = "ConfigUnknownChannelType";

    /// <summary>A Statuspage component named that is not defined.</summary>
    public const string ConfigUnknownComponent = "ConfigUnknownComponent";

    /// <summary>A severity named that is not defined.</summary>
    public const string ConfigUnknownSeverity = "ConfigUnknownSeverity";

    /// <summary>A service name without its environment matches services in several environments.</summary>
    public const string ServiceAmbiguous = "ServiceAmbiguous";

    /// <summary>-Service names an environment (environment/service) and -Environment names another.</summary>
    public const string ServiceEnvironmentConflict = "ServiceEnvironmentConflict";


}
