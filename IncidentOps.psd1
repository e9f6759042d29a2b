# Source manifest. The build stamps ModuleVersion from Directory.Build.props into out/IncidentOps/IncidentOps.psd1.
@{
    RootModule           = 'IncidentOps.dll'
    ModuleVersion        = '0.0.0'
    GUID                 = '6f0c1f55-8f5e-4a8b-9a58-2b7e0f4c1d3a'
    Author               = 'IncidentOps'
    CompanyName          = 'IncidentOps'
    Copyright            = '(c) 2026 IncidentOps contributors. MIT License.'
    Description          = 'Incident-response runbooks as PowerShell cmdlets: health checks, platform operations (Fly.io, DigitalOcean, Kubernetes, systemd), PostgreSQL and Redis triage, incident records with a timeline that writes itself, status updates and post-mortems.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    RequiredAssemblies   = @('IncidentOps.Models.dll')
    # No FormatsToProcess: the views (IncidentOps.format.ps1xml, merged by the build from src/IncidentOps/Formats) come
    # with IncidentOps.Views.psd1, imported when the prompt is idle or by the first IncidentOps command (ModuleViews.cs).
    # A file listed here would make PowerShell rebuild the session's whole format table during Import-Module
    # (bench/import/README.md).
    CmdletsToExport      = @(
        # Config
        'Get-IncidentOpsConfig'
        'Get-IncidentOpsService'
        'Test-IncidentOpsConfig'
        # Incidents
        'New-Incident'
        'Get-Incident'
        'Set-Incident'
        'Close-Incident'
        'Add-IncidentNote'
        'Add-IncidentActionItem'
        'Get-IncidentActionItem'
        'Set-IncidentActionItem'
        'Get-IncidentTimeline'
        'Get-IncidentSeverity'
        'Save-IncidentEvidence'
        'New-IncidentReport'
        'Get-IncidentMetric'
        'Initialize-IncidentStore'
        'Export-Incident'
        'Import-Incident'
        # Health
        'Test-ServiceHealth'
        'Watch-ServiceHealth'
        'Resolve-ServiceDns'
        'Get-ServiceCertificate'
        # Postgres
        'Get-PgActivity'
        'Get-PgConnectionSummary'
        'Get-PgSlowQuery'
        'Get-PgIndex'
        'Invoke-PgMaintenance'
        'Stop-PgBackend'
        'Stop-IdleConnection'
        # Redis
        'Clear-RedisDatabase'
        'Get-RedisClient'
        'Get-RedisInfo'
        'Get-RedisSlowLog'
        'Test-RedisConnection'
        # Platforms
        'Get-AppStatus'
        'Get-AppDeployment'
        'Get-AppLog'
        'Get-AppEvent'
        'Restart-App'
        'Set-AppScale'
        'Get-AppSetting'
        'Get-AppResourceUsage'
        'Set-AppSetting'
        'Invoke-Rollback'
        'Get-AppDatabase'
        'Restart-AppDatabase'
        'Get-AppDatabaseBackup'
        'New-AppDatabaseBackup'
        'Restore-AppDatabaseBackup'
        # Notifications
        'Send-IncidentUpdate'
        'Send-IncidentChangeEvent'
        'Get-IncidentUpdate'
        'Get-IncidentUpdateDue'
        # Actions
        'Get-ServiceAction'
        'Invoke-ServiceAction'
        # Alerting
        'Invoke-ServiceAlert'
    )
    AliasesToExport      = @(
        # Postgres: the user's name for Stop-IdleConnection
        'Stop-IdleConnections'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Incident', 'OnCall', 'SRE', 'Runbook', 'PostgreSQL', 'Redis', 'Kubernetes', 'Fly', 'DigitalOcean', 'systemd', 'PagerDuty', 'Statuspage')
            LicenseUri   = 'https://opensource.org/license/mit'   # the LICENSE file at the repository root, shipped in the module
            ReleaseNotes = 'First release: health checks, PostgreSQL and Redis triage, Fly.io, DigitalOcean, Kubernetes and systemd operations, incident records with a self-writing timeline, status updates to Slack, Teams, Discord, PagerDuty, Statuspage and webhooks, and post-mortem reports.'
        }
    }
}
