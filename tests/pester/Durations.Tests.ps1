#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Issue 16 item 1: unquoted 30s ([int16]) and 2d ([decimal]) typed in a real pwsh mean 30 seconds and 2 days.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $noPg = Test-SkipWithout 'INCIDENTOPS_TEST_PG'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-IncidentOps
    # The refused values fail as the arguments bind, before any connection: no server is needed for them.
    $offline = 'Host=127.0.0.1;Port=1;Database=app;Username=ops'
}
AfterAll { Remove-TestTemp }   # what its tests made in the temp folder (Common.ps1)

Describe 'Duration parameters' {
    It 'reads <Typed> as <Seconds> seconds' -Skip:$noPg -TestCases @(
        @{ Typed = '30s'; Seconds = 30 }
        @{ Typed = '3600s'; Seconds = 3600 }
        @{ Typed = '2d'; Seconds = 172800 }
        @{ Typed = '1.5d'; Seconds = 129600 }
        @{ Typed = '10m'; Seconds = 600 }
        @{ Typed = '90'; Seconds = 90 }
        @{ Typed = "'00:10:00'"; Seconds = 600 }
    ) {
        # The argument is typed into a script exactly as a user types it, so the parser makes of it what it makes at a prompt.
        # -WhatIf reads the session a typed pid names (to name it and pin it): the server's checkpointer is always there,
        # and -WhatIf never signals it.
        $cs = $env:INCIDENTOPS_TEST_PG
        $checkpointer = (Get-PgActivity -ConnectionString $cs -IncludeBackground | Where-Object BackendType -eq 'checkpointer').Pid
        $sb = [scriptblock]::Create("Stop-PgBackend -ConnectionString '$cs' -Pid $checkpointer -Mode Cancel -EscalateAfter $Typed -WhatIf")
        # -WhatIf text goes to the host; a transcript is how a user's screen is captured.
        $log = New-TestTempFile 'io-dur' '.txt'
        Start-Transcript -Path $log -UseMinimalHeader | Out-Null
        try { & $sb } finally { Stop-Transcript | Out-Null }
        $text = Get-Content -Raw $log
        Remove-Item $log
        $text | Should -Match "after $($Seconds)s if still running"
    }

    It 'refuses <Typed> with <Id>' -TestCases @(
        @{ Typed = '99999999d'; Id = 'DurationOutOfRange' }
        @{ Typed = '([timespan]30)'; Id = 'DurationTooSmall' }
        @{ Typed = '$two'; Id = 'DurationAmbiguous' }
        @{ Typed = "'-5m'"; Id = 'DurationNegative' }
    ) {
        $two = 2d
        $sb = [scriptblock]::Create("Stop-PgBackend -ConnectionString '$offline' -Pid 4242 -Mode Cancel -EscalateAfter $Typed -WhatIf")
        $err = $null
        try { & $sb -ErrorAction Stop } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError,*'
        $err.Exception.InnerException.InnerException.ErrorId | Should -Be $Id
        "$err" | Should -Match $Id
        "$err" | Should -Not -Match 'OverflowException'
    }

    It 'help states the rule' {
        (Get-Help Stop-IdleConnection -Parameter IdleFor | Out-String) | Should -Match 'number of seconds'
    }
}

Describe 'Stop-IdleConnections -IdleFor 30s' -Skip:$noPg {
    It 'spares a session idle for a moment (30s is thirty seconds, not 30 ticks)' {
        $cs = $env:INCIDENTOPS_TEST_PG
        $app = 'pester-dur-' + [guid]::NewGuid().ToString('N').Substring(0, 6)
        $parts = @{}
        foreach ($pair in $cs.Split(';', [StringSplitOptions]::RemoveEmptyEntries)) { $k, $v = $pair.Split('=', 2); $parts[$k.Trim().ToLowerInvariant()] = $v.Trim() }
        $env:PGAPPNAME = $app
        try { $proc = Start-Process -FilePath psql -ArgumentList "-X -h $($parts['host']) -p $($parts['port']) -U $($parts['username']) -d $($parts['database']) -c `"SELECT 1`" -c `"\! sleep 30`"" -PassThru -RedirectStandardOutput (New-TestTempFile 'io-psql-out') }
        finally { Remove-Item Env:PGAPPNAME }
        try {
            $deadline = (Get-Date).AddSeconds(20)
            while (@(Get-PgActivity -ConnectionString $cs -State idle -ApplicationName $app).Count -lt 1 -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 100 }
            $report = Stop-IdleConnections -ConnectionString $cs -ApplicationName $app -IdleFor 30s -Force
            $report.Matched | Should -Be 0
            @(Get-PgActivity -ConnectionString $cs -State idle -ApplicationName $app).Count | Should -Be 1
        }
        finally { $proc | Stop-Process -ErrorAction SilentlyContinue }
    }
}
