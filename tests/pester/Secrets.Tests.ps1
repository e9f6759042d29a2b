# What a user sees on screen: credentials are masked in every default view (issue 16 item 5, issue 18 items 4, 16,
# 17, 18, 20), -NoRedaction shows raw text where a user must see it, and hostile input gives clear errors.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:NoPg = Test-SkipWithout 'INCIDENTOPS_TEST_PG'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'FakeCli.ps1')
    Import-IncidentOps
    $script:Pw = 'Pw' + [guid]::NewGuid().ToString('N').Substring(0, 10)
    $script:Root = New-TestRoot
    $env_ = Join-Path $Root.Dir 'systemctl-env.txt'
    Set-Content -Path $env_ -Value "Environment=APP_ENV=production DATABASE_URL=postgres://app:$($Pw)@db.internal:5432/app API_TOKEN=tok-$Pw PORT=8000"
    $script:Systemctl = New-FakeCli 'systemctl' @{ 'show fastapi -p Environment' = $env_ }
    $journal = Join-Path $Root.Dir 'journal.jsonl'
    Set-Content -Path $journal -Value @(
        '{"__REALTIME_TIMESTAMP":"1795424455000000","_HOSTNAME":"api-1","_PID":"42","PRIORITY":"3","MESSAGE":"connect to postgres://app:' + $Pw + '@db.internal:5432/app failed"}'
        '{"__REALTIME_TIMESTAMP":"1795424456000000","_HOSTNAME":"api-1","_PID":"42","PRIORITY":"6","MESSAGE":"postgres primary failed over to production"}')
    $script:Journalctl = New-FakeCli 'journalctl' @{ '-u fastapi -o json' = $journal }
}

AfterAll {
    Remove-TestTemp   # $script:Root and the fake CLIs
}

Describe 'Secrets on screen' {
    It 'Get-AppSetting shows DATABASE_URL as a secret with its password masked, at 80 and 120 columns' {
        $settings = Get-AppSetting -Platform Systemd -Unit fastapi -SystemctlPath $Systemctl.Path
        foreach ($w in 80, 120) {
            $text = Get-RenderedView $settings -Width $w
            $text | Should -Not -Match $Pw
            $text | Should -Match 'DATABASE_URL'
        }
        ($settings | Format-List * | Out-String) | Should -Not -Match $Pw
        $db = $settings | Where-Object Key -EQ 'DATABASE_URL'
        $db.IsSecret | Should -BeTrue
        $db.Value | Should -Be 'postgres://app:********@db.internal:5432/app'
        ($settings | Where-Object Key -EQ 'API_TOKEN').Value | Should -BeNullOrEmpty
        ($settings | Where-Object Key -EQ 'APP_ENV').Value | Should -Be 'production'
    }

    It 'Get-AppSetting -NoRedaction shows the raw value' {
        $db = Get-AppSetting -Platform Systemd -Unit fastapi -SystemctlPath $Systemctl.Path -NoRedaction | Where-Object Key -EQ 'DATABASE_URL'
        $db.Value | Should -Be "postgres://app:$($Pw)@db.internal:5432/app"
    }

    It 'Get-AppLog masks credentials in the default view and keeps ordinary words; -NoRedaction shows them' {
        $logs = Get-AppLog -Platform Systemd -Unit fastapi -JournalctlPath $Journalctl.Path
        $text = Get-RenderedView $logs -Width 200
        $text | Should -Not -Match $Pw
        $text | Should -Match 'postgres://app:\*{8}@db.internal'
        $text | Should -Match 'postgres primary failed over to production'
        (Get-AppLog -Platform Systemd -Unit fastapi -JournalctlPath $Journalctl.Path -NoRedaction)[0].Message | Should -Match $Pw
    }

    It 'Test-ServiceHealth never shows URL credentials or query tokens' {
        $r = Test-ServiceHealth "http://ops:$($Pw)@127.0.0.1:9/health?access_token=$Pw&api-key=$Pw" -TimeoutSec 2
        $text = ($r | Format-List * | Out-String -Width 300) + ($r | Out-String -Width 300) + $r.ToString()
        $text | Should -Not -Match $Pw
        $r.Uri | Should -Be 'http://ops:********@127.0.0.1:9/health?access_token=********&api-key=********'
    }

    It 'Get-PgSlowQuery masks PASSWORD literals from pg_stat_statements' -Skip:$NoPg {
        $cs = $env:INCIDENTOPS_TEST_PG
        $role = 'io_pester_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        $port = $env:INCIDENTOPS_TEST_PG_PORT
        psql -X -q -h 127.0.0.1 -p $port -U postgres -d postgres -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' -c "CREATE ROLE $role LOGIN PASSWORD '$Pw'" | Out-Null
        try {
            $q = Get-PgSlowQuery -ConnectionString $cs -Top 1000
            (Get-RenderedView $q -Width 200) | Should -Not -Match $Pw
            ($q | Format-List * | Out-String -Width 300) | Should -Not -Match $Pw
            ($q | Where-Object Query -Match "CREATE ROLE $role").Query | Should -Be "CREATE ROLE $role LOGIN PASSWORD '********'"
        }
        finally { psql -X -q -h 127.0.0.1 -p $port -U postgres -d postgres -c "DROP ROLE IF EXISTS $role" | Out-Null }
    }
}

Describe 'Redaction keeps the record readable' {
    It 'a value set with -WhatIf and common words do not mask later notes' {
        $fly = New-FakeCli 'flyctl' @{ 'secrets import' = $env:PATH.Split(':')[0] }
        $i = New-Incident -Title 'API down' -Severity P1 -ConfigPath $Root.Config
        Set-AppSetting -Platform Fly -App api1 -FlyctlPath $fly.Path -ConfigPath $Root.Config -Setting @{ APP_ENV = 'production'; TOKEN_X = "blue-$Pw" } -WhatIf
        Add-IncidentNote 'Rolled back production/api' -ConfigPath $Root.Config | Out-Null
        $timeline = Get-IncidentTimeline -Id $i.Id -ConfigPath $Root.Config
        ($timeline | Where-Object Kind -EQ 'note').Result | Should -Contain 'Rolled back production/api'
        ($timeline | Out-String -Width 300) | Should -Not -Match "blue-$Pw"
        ($timeline | Format-List * | Out-String -Width 200) | Should -Match 'Rolled back production/api'
    }
}

Describe 'Hostile input' {
    It 'a Markdown report cannot be forged by a title or root cause' {
        $i = New-Incident -Title "API down`n# Forged heading`n<script>alert(1)</script>" -Severity P2 -ConfigPath $Root.Config
        Set-Incident -Id $i.Id -RootCause "disk`n`n## Resolution`nfake" -ConfigPath $Root.Config | Out-Null
        $report = New-IncidentReport -Id $i.Id -ConfigPath $Root.Config
        $lines = $report.Content -split "`n"
        @($lines | Where-Object { $_ -match '^#+\s*Forged' }).Count | Should -Be 0
        @($lines | Where-Object { $_ -match '^## Resolution' }).Count | Should -Be 1
        $report.Content | Should -Not -Match '(?<!\\)<script>'
        $html = New-IncidentReport -Id $i.Id -Format Html -ConfigPath $Root.Config
        $html.Content | Should -Not -Match '<script>'
        $html.Content | Should -Match '&lt;script&gt;'
    }

    It 'New-IncidentReport into a missing folder says so with an id' {
        $i = New-Incident -Title 'x' -Severity P3 -ConfigPath $Root.Config
        $missing = Join-Path $Root.Dir 'no-such-folder'
        New-IncidentReport -Id $i.Id -Path (Join-Path $missing 'r.md') -ConfigPath $Root.Config -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'ReportFolderNotFound,IncidentOps.Commands.NewIncidentReportCommand'
        $err[0].ToString() | Should -Match ([regex]::Escape($missing))
    }

    It 'an ./incidentops.yml with 50,000 nested [ gives ConfigTooDeep at the line in a child pwsh that lives on' {
        $dir = Join-Path $Root.Dir 'deep'
        New-Item -ItemType Directory -Path $dir | Out-Null
        Set-Content -Path (Join-Path $dir 'incidentops.yml') -Value ("version: 1`nenvironments: " + ('[' * 50000))
        # This very pwsh, whether it runs as its own executable or as a dotnet tool (dotnet pwsh.dll).
        $pwsh = [Environment]::ProcessPath
        [string[]] $hostArgs = @()
        if ((Split-Path -Leaf $pwsh) -match '^dotnet(\.exe)?$') { $hostArgs = @([Environment]::GetCommandLineArgs()[0]) }
        $child = "Import-Module '$($script:ModulePath)'; Set-Location '$dir'; (Test-IncidentOpsConfig).ToString(); try { Get-IncidentOpsService -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId }; 'alive'; exit 0"
        $out = & $pwsh @hostArgs -NoLogo -NoProfile -NonInteractive -Command $child 2>&1 | Out-String
        $out | Should -Match 'alive'
        $LASTEXITCODE | Should -Be 0
        $out | Should -Match 'incidentops\.yml:2:\d+: error ConfigTooDeep'
        $out | Should -Match 'ConfigInvalid,'
    }

    It 'unclosed lists, /dev/zero and plain-http channel URLs are findings or errors with ids' {
        $open = Join-Path $Root.Dir 'open.yml'; Set-Content -Path $open -Value 'a: [1, 2' -NoNewline
        (Test-IncidentOpsConfig -Path $open).Code | Should -Be 'ConfigSyntaxError'
        Test-IncidentOpsConfig -Path /dev/zero -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'ConfigTooLarge,IncidentOps.Commands.TestIncidentOpsConfigCommand'
        $http = Join-Path $Root.Dir 'http.yml'
        Set-Content -Path $http -Value "version: 1`nchannels:`n  ops: { type: slack, url: 'http://hooks.example.com/s3cr3t' }"
        $f = Test-IncidentOpsConfig -Path $http
        $f.Code | Should -Be 'ConfigInvalidUrl'
        ($f | Out-String -Width 200) | Should -Not -Match 's3cr3t'
    }
}
