using IncidentOps.Config;

namespace IncidentOps.Engine.Config;

/// <summary>
/// Resolves env:, file: and secret: references. Every value that comes from a secret-bearing key is
/// registered with <see cref="SecretRedactor"/> so it can never be echoed. Failures name the file,
/// line and column where the reference was written.
/// </summary>
public sealed class ReferenceResolver(ISecretProvider secrets)
{
    public async Task<string> ResolveAsync(ConfigValue value, CancellationToken cancellationToken)
    {
        var raw = value.GetRawUnsafe();
        string? resolved;
        switch (value.Kind)
        {
            case ConfigValueKind.Literal:
                resolved = raw;
                break;
            case ConfigValueKind.Env:
                resolved = EnvReference.Read(value.Reference!) ?? throw Unresolved(value, EnvReference.NotSet(value.Reference!));
                break;
            case ConfigValueKind.File:
                var path = value.Reference!;
                if (path.StartsWith("~/", StringComparison.Ordinal)) path = Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), path[2..]);
                if (!Path.IsPathRooted(path) && value.Location is not null) path = Path.GetFullPath(path, Path.GetDirectoryName(value.Location.File) ?? ".");
                try { resolved = (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim(); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw Unresolved(value, $"the file '{path}' cannot be read ({ex.GetType().Name}: {ex.Message}). Write the value into it (readable by this user), or change the reference.");
                }
                // As an empty env: variable: an empty connection string would silently mean localhost:5432 (libpq's defaults).
                if (string.IsNullOrEmpty(resolved))
                    throw Unresolved(value, $"the file '{path}' is empty. Write the value into it, or change the reference.");
                break;
            case ConfigValueKind.Secret:
                try { resolved = await secrets.GetSecretAsync(value.Reference!, cancellationToken).ConfigureAwait(false); }
                catch (IncidentOpsException ex) when (ex.ErrorId != ConfigErrorIds.ConfigReferenceUnresolved)
                {
                    throw Unresolved(value, ex.Message, ex);
                }
                if (string.IsNullOrEmpty(resolved))
                    throw Unresolved(value, $"Get-Secret found no secret named '{value.Reference}'. Add it with Set-Secret -Name {value.Reference}.");
                break;
            default:
                throw new InvalidOperationException(value.Kind.ToString());
        }
        if (value.IsConnection) SecretRedactor.RegisterCredentials(resolved);
        else if (value.IsSecret || value.Kind == ConfigValueKind.Secret) SecretRedactor.Register(resolved);
        return resolved!;
    }

    /// <summary>Checks that a reference resolves, without returning its value (Test-IncidentOpsConfig).</summary>
    public async Task<string?> CheckAsync(ConfigValue value, CancellationToken cancellationToken)
    {
        try { await ResolveAsync(value, cancellationToken).ConfigureAwait(false); return null; }
        catch (IncidentOpsException ex) { return ex.Message; }
    }

    /// <summary>The reference does not resolve; <paramref name="inner"/> keeps the provider's own error (SecretNotFound ...).</summary>
    private static IncidentOpsException Unresolved(ConfigValue value, string why, Exception? inner = null) =>
        new(ConfigErrorIds.ConfigReferenceUnresolved, IncidentOpsErrorCategory.ObjectNotFound,
            $"{(value.Location is null ? "" : value.Location + ": ")}the reference '{value}' does not resolve: {why}", inner)
        { TargetObject = value.ToString() };
}
