# Source manifest. The build stamps ModuleVersion from Directory.Build.props into out/IncidentOps/IncidentOps.psd1.
@{
    RootModule           = 'IncidentOps.dll'
    ModuleVersion        = '0.0.0'
    GUID                 = '6f0c1f55-8f5e-4a8b-9a58-2b7e0f4c1d3a'
    Author               = 'IncidentOps'
    CompanyName          = 'IncidentOps'
    Copyright            = '(c) IncidentOps. All rights reserved.'
    Description          = 'Incident-response runbooks as PowerShell cmdlets: health checks, platform operations (Fly.io, DigitalOcean, Kubernetes, systemd), PostgreSQL and Redis triage, incident records with a timeline that writes itself, status updates and post-mortems.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    RequiredAssemblies   = @('IncidentOps.Models.dll')
    FormatsToProcess     = @(
        'IncidentOps.Config.format.ps1xml'
        'IncidentOps.Notifications.format.ps1xml'
    )
    CmdletsToExport      = @(
        # Config
        'Get-IncidentOpsConfig'
        'Get-IncidentOpsService'
        'Test-IncidentOpsConfig'
        # Notifications
        'Send-IncidentUpdate'
        'Send-IncidentChangeEvent'
        'Get-IncidentUpdate'
        'Get-IncidentUpdateDue'
    )
    AliasesToExport      = @()
    FunctionsToExport    = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Incident', 'OnCall', 'SRE', 'Runbook', 'PostgreSQL', 'Redis', 'Kubernetes', 'Fly', 'DigitalOcean', 'systemd', 'PagerDuty', 'Statuspage')
            ProjectUri = 'https://example.invalid/incidentops'
        }
    }
}
