#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Get-IncidentTimeline -Wait (issue 13): another process's note shows up in a running -Wait, for the file store
# (watched) and the PostgreSQL team store (LISTEN/NOTIFY), and -Wait stops when its process is told to.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:skipPg = Test-SkipWithout 'INCIDENTOPS_TEST_PG'
    $script:stores = @(@{ Store = 'file' }, @{ Store = 'postgres'; Skip = $script:skipPg })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    $script:root = Initialize-IncidentTestFile
    $script:module = Join-Path $PSScriptRoot '../../out/IncidentOps/IncidentOps.psd1'
    $script:configs = @{ file = $script:root.Config }
    if ($env:INCIDENTOPS_TEST_PG) {
        . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
        $script:db = New-TestPgDatabase 'wait'
        $env:IO_WAIT_STORE = Get-PgTestConnectionString $script:db
        $pgConfig = Join-Path $script:root.Dir 'pg.yml'
        Set-Content -Path $pgConfig -Value "store:`n  kind: postgres`n  path: $(Join-Path $script:root.Dir 'pg-local')`n  connectionString: env:IO_WAIT_STORE`n"
        Initialize-IncidentStore -ConfigPath $pgConfig -Confirm:$false | Out-Null
        $script:configs.postgres = $pgConfig
    }
}

AfterAll {
    if ($script:db) { Remove-TestPgDatabase $script:db }
    Remove-Item Env:IO_WAIT_STORE -ErrorAction SilentlyContinue
    Exit-IsolatedIncidentOps $script:root
}

Describe 'Get-IncidentTimeline -Wait with the <Store> store' -ForEach $stores {
    It 'shows a note another process adds while it runs' -Skip:([bool]$Skip) {
        $cfg = $script:configs[$Store]
        $incident = New-Incident -Title "Follow $Store" -Severity P2 -ConfigPath $cfg
        $out = Join-Path $script:root.Dir "follow-$Store.txt"
        $exe = [Environment]::ProcessPath
        $psi = [System.Diagnostics.ProcessStartInfo]::new($exe)
        if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        $follow = "Import-Module '$script:module'; Get-IncidentTimeline -Incident $($incident.Id) -Wait -ConfigPath '$cfg' | " +
            "ForEach-Object { [IO.File]::AppendAllText('$out', [DateTime]::UtcNow.ToString('o') + ' ' + `$_.Result + [Environment]::NewLine) }"
        foreach ($a in '-NoLogo', '-NoProfile', '-NonInteractive', '-Command', $follow) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardError = $true
        # A killed pwsh leaves its IPC pipes (CoreFxPipe_PSHost.*, dotnet-diagnostic-*) in its temp folder: give it a listed one.
        $psi.Environment['TMPDIR'] = New-TestTempDir 'io-child'
        $child = [System.Diagnostics.Process]::Start($psi)
        $errors = $child.StandardError.ReadToEndAsync()
        try {
            # It is following once it has written the declaration.
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (-not ((Test-Path $out) -and (Get-Content $out -Raw) -match 'Declare|P2') -and [DateTime]::UtcNow -lt $deadline -and -not $child.HasExited) { Start-Sleep -Milliseconds 50 }
            $child.HasExited | Should -BeFalse -Because $(if ($child.HasExited) { $errors.Result })
            $note = "seen by the follower $([guid]::NewGuid().ToString('N').Substring(0, 6))"
            $written = Add-IncidentNote -Incident $incident.Id -Text $note -ConfigPath $cfg
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            while (-not ((Get-Content $out -Raw) -match [regex]::Escape($note)) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            $line = Get-Content $out | Where-Object { $_ -match [regex]::Escape($note) }
            $line | Should -Not -BeNullOrEmpty -Because 'the follower writes the note as it lands (generous bound for a loaded machine: 30 s)'
            $seenAt = [DateTime]::Parse(($line -split ' ', 2)[0], $null, 'RoundtripKind')
            Write-Host "  -Wait delivery latency ($Store): $([math]::Round(($seenAt - $written.Timestamp.UtcDateTime).TotalMilliseconds)) ms"
            $child.HasExited | Should -BeFalse -Because '-Wait keeps following until stopped'
        }
        finally {
            if (-not $child.HasExited) { $child.Kill($true) }
            $child.WaitForExit()
        }
    }
}

Describe 'Get-IncidentTimeline -Wait help' {
    It 'describes -Wait' {
        (Get-Help Get-IncidentTimeline -Parameter Wait | Out-String) | Should -Match 'until Ctrl\+C'
    }
}
