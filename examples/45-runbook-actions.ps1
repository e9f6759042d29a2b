#Requires -Version 7.4
# The team's own mitigations from the seed runbooks, declared under actions: in incidentops.yml and run with
# Invoke-ServiceAction: seed 001's "Stop all workflows (emergency)" (curl -X POST .../api/workflows/emergency-stop) and
# "Block suspicious IP" (flyctl ips block <ip> --app ai-affiliate-empire), and seed 003's "Enable rate limiting"
# (kubectl apply -f k8s/rate-limit-strict.yaml). Without -Execute each action is a -WhatIf preview of the exact
# request or command line. With -Execute they run on an incident declared in a throw-away store, and the post-mortem lists them.
param(
    [string] $ConfigPath = (Join-Path $PSScriptRoot 'incidentops.yml'),
    [string] $SuspiciousIp = '203.0.113.7',
    [switch] $Execute
)
Import-Module (Join-Path $PSScriptRoot '../out/IncidentOps') -ErrorAction Stop
# Each step ends in Out-Host, so it prints at once, in order and in its own default view.

# A copy of the configuration whose incidents go to a temp folder (manifests are found next to the copy, as beside the original).
$store = Join-Path ([IO.Path]::GetTempPath()) "incidentops-actions-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
New-Item -ItemType Directory -Path $store | Out-Null
$config = Join-Path $store 'incidentops.yml'
((Get-Content $ConfigPath -Raw) -replace '(?m)^store:\r?\n(  .*\r?\n)*', '') + "`nstore:`n  path: $store`n" | Set-Content $config
$manifests = Join-Path (Split-Path $ConfigPath) 'k8s'
if (Test-Path $manifests) { Copy-Item $manifests -Destination $store -Recurse }

try {
    # What each service can do: the default view, then one action in full (its Authorization header stays masked).
    Get-ServiceAction -ConfigPath $config | Out-Host
    Get-ServiceAction -Service production/api -Name emergency-stop -ConfigPath $config | Format-List | Out-Host

    if (-not $Execute) {
        # The exact request and command lines, and nothing sent.
        Invoke-ServiceAction -Service production/api -Name emergency-stop -WhatIf -ConfigPath $config
        Invoke-ServiceAction -Service production/api -Name block-ip -Parameter @{ ip = $SuspiciousIp } -WhatIf -ConfigPath $config
        Get-ServiceAction -Service production/marketing -Name rate-limit-strict -ConfigPath $config | Invoke-ServiceAction -WhatIf -ConfigPath $config
        return
    }

    $incident = New-Incident -Title 'Workflows publishing spam from a suspicious IP' -Severity P1 -Service production/api -ConfigPath $config
    # -Force: a script cannot answer the confirmation each action's confirmImpact asks for.
    Invoke-ServiceAction -Service production/api -Name emergency-stop -Force -ConfigPath $config | Out-Host
    Invoke-ServiceAction -Service production/api -Name block-ip -Parameter @{ ip = $SuspiciousIp } -Force -ConfigPath $config | Out-Host
    Invoke-ServiceAction -Service production/marketing -Name rate-limit-strict -Force -TimeoutSec 60 -ConfigPath $config | Out-Host

    # Every run is on the incident's timeline, and the post-mortem's timeline lists the actions taken.
    Get-IncidentTimeline -Incident $incident.Id -Kind action -ConfigPath $config | Out-Host
    (New-IncidentReport -Incident $incident.Id -ConfigPath $config).Content -split "`n" | Where-Object { $_ -match 'Invoke-ServiceAction' }
}
finally {
    Remove-Item -Recurse -Force $store -ErrorAction SilentlyContinue
}
