#Requires -Version 7.4
<#
.SYNOPSIS
    One unattended alerting round, for a scheduler that runs it every minute (cron, a systemd timer, a Kubernetes
    CronJob, GitHub Actions; the files beside this one).
.DESCRIPTION
    Run through the main-job entry point, which builds the module and runs this script in the pinned pwsh 7.6.9 with
    IncidentOps importable and $env:INCIDENTOPS_CONFIG set:

        dotnet tool restore && dotnet pwsh ./build.ps1 -Task Shell -Script ./examples/scheduled/alert-round.ps1 -ConfigPath /etc/incidentops/incidentops.yml

    Invoke-ServiceAlert checks every configured service with health endpoints and applies the `alerting` rules of
    incidentops.yml; its state between runs (counts, open incidents, last update) is in the incident store, so each
    run carries on from the last. It pages every pager the severity routes (PagerDuty, Opsgenie, or both), once per
    incident. Secrets (webhook URLs, the PagerDuty routing key, the Opsgenie API key) are never in this script: the
    configuration names them as env:NAME, file:PATH or secret:NAME, and the scheduler provides those.

    Exit code: 0 when the round did its job, whatever the services' health (a service being down is what the round
    is for); 1 when the round itself failed: the configuration is invalid (ConfigInvalid) or the store cannot be
    read or written (AlertingStoreUnavailable, StoreReadOnly, StoreDiskFull). The next run carries on from the last
    saved state: it neither loses an outage nor declares it twice.
#>
$ErrorActionPreference = 'Stop'
# A failed round: one line with the error id and what to do for the scheduler's log, and exit code 1.
trap {
    $message = if ($_.ErrorDetails) { $_.ErrorDetails.Message } else { $_.Exception.Message }
    [Console]::Error.WriteLine("Alerting round failed ($($_.FullyQualifiedErrorId)): $message")
    exit 1
}
Import-Module IncidentOps

# One line per service for the scheduler's log: what the round saw, did and why.
Invoke-ServiceAlert -Confirm:$false | ForEach-Object {
    '{0:u} {1,-24} {2,-10} {3}' -f $_.Timestamp, $_.Service, $_.Action, $_.Decision
}
