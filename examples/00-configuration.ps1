#Requires -Version 7.4
# A tour of the configuration cmdlets: validate the file, look at it, then start pipelines from services.
# Replays no procedure: it describes the four systems of seeds 000-004 (Fly.io, DigitalOcean, Kubernetes, systemd)
# as examples/incidentops.yml configures them, which the other examples use.
param([string] $ConfigPath = (Join-Path $PSScriptRoot 'incidentops.yml'))

Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
# Each step ends in Out-Host, so it prints at once, in order and in its own default view (a script's objects
# otherwise share the first one's table, and later types fall back to long lists).

# 1. Is the file sound? Every finding names file:line:column.
Test-IncidentOpsConfig -Path $ConfigPath -SkipReferences | Out-Host

# 2. The effective configuration, secrets masked.
$config = Get-IncidentOpsConfig -Path $ConfigPath
$config | Out-Host
$config.Severities | Out-Host        # the severity matrix in force
$config.Channels | Out-Host          # notification channels; webhook URLs and keys never shown

# 3. Services as objects: filter, then pipe into the other cmdlets.
Get-IncidentOpsService -Path $ConfigPath -Environment production | Out-Host
Get-IncidentOpsService -Path $ConfigPath -Name 'production/*' |
    Where-Object Platform -eq 'Kubernetes' |
    ForEach-Object { "$($_.FullName) -> $($_.Context)/$($_.Namespace)/deployment/$($_.Deployment)" }
