using IncidentOps.Platforms;

namespace IncidentOps.Engine.Platforms;

/// <summary>The release a rollback goes to, and why others were passed over.</summary>
public sealed record RollbackTarget(AppDeployment? From, AppDeployment To, IReadOnlyList<string> Notes);

/// <summary>
/// The one rule for choosing a rollback's target, for every platform: -ToVersion, or the newest release older than the
/// current one that succeeded, was not rolled back from, and does not run the current image. What was passed over
/// (and a -ToVersion that never succeeded or was rolled back from) becomes a note in the plan's warnings.
/// </summary>
public static class RollbackChoice
{
    /// <summary>True when the release runs the current release's image (a redeploy of it).</summary>
    public static bool SameContent(AppDeployment d, AppDeployment? current) =>
        current?.Image is { Length: > 0 } image && string.Equals(d.Image, image, StringComparison.Ordinal);

    /// <summary>The release a history marks current, else its newest (every adapter lists newest first).</summary>
    public static AppDeployment? CurrentOf(IReadOnlyList<AppDeployment> history) => history.FirstOrDefault(d => d.IsCurrent) ?? history.FirstOrDefault();

    /// <summary>
    /// Refuses a planned rollback whose starting point is gone: the history read again just before the rollback runs
    /// names another current release than the plan (someone deployed, restarted into a new revision or rolled back while
    /// the confirmation was open). Going ahead would replace that newer release with the plan's older target.
    /// </summary>
    public static void EnsureStillCurrent(AppTarget target, RollbackPlan plan, IReadOnlyList<AppDeployment> history)
    {
        var now = CurrentOf(history)?.Version;
        if (string.Equals(now, plan.From, StringComparison.Ordinal)) return;
        throw CurrentChanged(target, plan.From, plan.To, now);
    }

    /// <summary>
    /// RollbackCurrentChanged: the current release is <paramref name="now"/>, not <paramref name="from"/> the rollback
    /// started from. Also what a platform's own compare-and-swap reports when it finds another release at the moment of
    /// the swap (the systemd releases symlink), so every platform says it the same way.
    /// </summary>
    public static IncidentOpsException CurrentChanged(AppTarget target, string? from, string to, string? now)
    {
        var what = string.Equals(now, to, StringComparison.Ordinal)
            ? $"is already {now}, the rollback's target (someone else rolled it back meanwhile)"
            : $"is now {(string.IsNullOrEmpty(now) ? "(none)" : now)}, not {from ?? "(none)"} as when the rollback was planned (a deploy, restart or rollback happened meanwhile)";
        return new IncidentOpsException(PlatformErrorIds.RollbackCurrentChanged, IncidentOpsErrorCategory.InvalidOperation,
            $"The current release of {target} {what}. Nothing was changed. Run Get-AppDeployment to see the history, then Invoke-Rollback again (with -ToVersion to pick the release).") { TargetObject = target.ToString() };
    }

    /// <summary>
    /// RollbackFailed for a rollback whose change was applied but whose next step failed (the restart, the wait for the
    /// rollout): the error says the platform now runs <paramref name="to"/>, what failed, and how to finish or undo it,
    /// instead of a bare CLI failure that reads as if nothing had happened.
    /// </summary>
    public static IncidentOpsException HalfDone(AppTarget target, string? from, string to, string applied, string step, IncidentOpsException failed, string finish) =>
        new(PlatformErrorIds.RollbackFailed, IncidentOpsErrorCategory.InvalidResult,
            $"The rollback of {target} to {to} was applied ({applied}), but {step} failed, so it is half done: {failed.Message}{Environment.NewLine}{finish}{(from is null ? "" : $" To go back instead, run Invoke-Rollback -ToVersion {from}.")}", failed)
        { TargetObject = target.ToString() };

    /// <summary>Chooses the target in a history listed newest first (as every adapter's GetDeploymentsAsync returns it).</summary>
    public static RollbackTarget Choose(AppTarget target, IReadOnlyList<AppDeployment> history, string? toVersion, IOperationSink sink)
    {
        var current = CurrentOf(history);
        var notes = new List<string>();
        if (toVersion is not null)
        {
            var wanted = history.FirstOrDefault(d => string.Equals(d.Version, toVersion, StringComparison.OrdinalIgnoreCase) || string.Equals(d.Version, "v" + toVersion, StringComparison.OrdinalIgnoreCase))
                ?? throw new IncidentOpsException(PlatformErrorIds.RollbackTargetNotFound, IncidentOpsErrorCategory.ObjectNotFound,
                    $"{target} has no release '{toVersion}'. Known: {string.Join(", ", history.Select(h => h.Version))}. Run Get-AppDeployment to see them.") { TargetObject = toVersion };
            if (wanted.RolledBack) notes.Add($"Release {wanted.Version} was rolled back from earlier; it is the target only because -ToVersion asked for it.");
            else if (!wanted.Succeeded) notes.Add($"Release {wanted.Version} never succeeded ({wanted.Status}); it is the target only because -ToVersion asked for it.");
            return new RollbackTarget(current, wanted, notes);
        }
        var index = current is null ? -1 : history.ToList().IndexOf(current);
        // One release (a workload never changed since it was created, or whose older revisions were pruned): refused
        // with its own id, because no -ToVersion can help and the fix is elsewhere (a restart, or a new release).
        if (history.All(d => ReferenceEquals(d, current)))
            throw new IncidentOpsException(PlatformErrorIds.RollbackNoEarlierRevision, IncidentOpsErrorCategory.InvalidOperation,
                $"{target} has no earlier revision to roll back to: its history holds only {(current is null ? "nothing" : $"the current release {current.Version}")} (Get-AppDeployment lists it). Nothing was changed. Restart it (Restart-App) or deploy a fix instead.") { TargetObject = target.ToString() };
        foreach (var d in history.Skip(index + 1))
        {
            var skip = !d.Succeeded ? $"Skipped release {d.Version} ({d.Status}): it never succeeded."
                : d.RolledBack ? $"Skipped release {d.Version}: it was rolled back from (a later release went back past it)."
                : SameContent(d, current) ? $"Skipped release {d.Version}: it runs the same image as the current release {current!.Version}."
                : null;
            if (skip is null)
            {
                if (notes.Count > 0) notes.Add($"Rolling back to {d.Version}; pass -ToVersion to choose a skipped release.");
                return new RollbackTarget(current, d, notes);
            }
            sink.Verbose(skip);
            if (d.Succeeded) notes.Add(skip);
        }
        throw new IncidentOpsException(PlatformErrorIds.RollbackTargetNotFound, IncidentOpsErrorCategory.ObjectNotFound,
            $"{target} has no successful release older than the current one ({current?.Version ?? "none"}) that was not rolled back from. Pass -ToVersion to pick one (Get-AppDeployment lists them).");
    }

    /// <summary>What -WhatIf and the confirmation say about a rollback: from -> to (image): the commands.</summary>
    public static string Describe(RollbackPlan plan) =>
        $"{plan.From ?? "(none)"} -> {plan.To}{(plan.ToImage is null ? "" : " (" + plan.ToImage + ")")}: {string.Join("; ", plan.Commands)}";

    /// <summary>The timeline's result of a rollback.</summary>
    public static string Summary(RollbackResult r) =>
        $"{r.From} -> {r.To} {(r.Succeeded ? "succeeded" : "failed")}{(r.HealthyAfter is null ? "" : r.HealthyAfter.Value ? ", healthy" : ", NOT healthy")} in {r.Duration.TotalSeconds:0.#} s: {string.Join("; ", r.Steps)}";

    /// <summary>
    /// The plan's warnings to show before a rollback runs: all of them under -WhatIf; otherwise only the notes on the
    /// choice of target (the platform's own warnings are written when the rollback runs).
    /// </summary>
    public static IEnumerable<string> WarningsBefore(RollbackPlan plan, bool whatIf) =>
        whatIf ? plan.Warnings : plan.Warnings.Where(w => w.StartsWith("Skipped release", StringComparison.Ordinal) || w.StartsWith("Release ", StringComparison.Ordinal));
}
