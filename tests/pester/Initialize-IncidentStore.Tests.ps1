#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Initialize-IncidentStore and the PostgreSQL team store (issue 13): schema creation and upgrade, -WhatIf, refusing a
# newer schema, StoreUnavailable, and two responders sharing one record while each keeps their own active incident.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:skipPg = Test-SkipWithout 'INCIDENTOPS_TEST_PG'
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'IncidentsSupport.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    $script:root = Initialize-IncidentTestFile
    if ($env:INCIDENTOPS_TEST_PG) {
        $script:db = New-TestPgDatabase 'store'
        $env:IO_TEST_STORE = Get-PgTestConnectionString $script:db
    }
    # A configuration of one responder: the team store in $Schema, this responder's own local folder (active incident, spool).
    function New-TeamConfig([string] $Schema, [string] $Who, [string] $ConnectionRef = 'env:IO_TEST_STORE') {
        $dir = Join-Path $script:root.Dir $Who
        New-Item -ItemType Directory -Path $dir -Force | Out-Null
        $path = Join-Path $dir 'incidentops.yml'
        Set-Content -Path $path -Value "store:`n  kind: postgres`n  path: $dir`n  connectionString: $ConnectionRef`n  schema: $Schema`n"
        $path
    }
}

AfterAll {
    if ($script:db) { Remove-TestPgDatabase $script:db }
    Remove-Item Env:IO_TEST_STORE -ErrorAction SilentlyContinue
    Exit-IsolatedIncidentOps $script:root
}

Describe 'Initialize-IncidentStore' {
    It 'with the file store reports its folder and changes nothing' {
        $info = Initialize-IncidentStore
        $info.Kind | Should -Be 'File'
        $info.Changed | Should -BeFalse
        $info.Store | Should -Be (Resolve-Path $script:root.Store).Path
    }

    It '-WhatIf lists the migrations and creates no schema' -Skip:$skipPg {
        $cfg = New-TeamConfig 'whatif_store' 'whatif'
        $text = Get-WhatIfText "Initialize-IncidentStore -ConfigPath '$cfg' -WhatIf"
        $text | Should -Match 'What if: Performing the operation "Apply schema migration\(s\) 1: incidents, timeline'
        $text | Should -Match 'postgres://127\.0\.0\.1:\d+/store_\w+#whatif_store'
        Invoke-TestPsql "SELECT count(*) FROM pg_namespace WHERE nspname = 'whatif_store'" $script:db | Should -Be 0
    }

    It 'creates the schema once, records version 2, and a second run changes nothing' -Skip:$skipPg {
        $cfg = New-TeamConfig 'team_store' 'alice'
        $first = Initialize-IncidentStore -ConfigPath $cfg -Confirm:$false
        $first.Kind | Should -Be 'Postgres'
        $first.Schema | Should -Be 'team_store'
        $first.PreviousSchemaVersion | Should -Be 0
        $first.SchemaVersion | Should -Be 2
        $first.Changed | Should -BeTrue
        Invoke-TestPsql 'SELECT string_agg(version::text, $$,$$ ORDER BY version) FROM team_store.schema_version' $script:db | Should -Be '1,2'
        Invoke-TestPsql "SELECT to_regclass('team_store.alert_state') IS NOT NULL" $script:db | Should -Be 't'
        $again = Initialize-IncidentStore -ConfigPath $cfg
        $again.Changed | Should -BeFalse
        $again.SchemaVersion | Should -Be 2
    }

    It 'upgrades a version-1 store to 2 by adding the alerting state table, keeping its incidents' -Skip:$skipPg {
        $cfg = New-TeamConfig 'v1_store' 'dave'
        Initialize-IncidentStore -ConfigPath $cfg -Confirm:$false | Out-Null
        $incident = New-Incident -Title 'Before the upgrade' -Severity P2 -ConfigPath $cfg
        # What version 1 left behind.
        Invoke-TestPsql 'DROP TABLE v1_store.alert_state; DELETE FROM v1_store.schema_version WHERE version = 2' $script:db | Out-Null
        $r = Invoke-InChildPwsh "try { Get-Incident -ConfigPath '$cfg' -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.Exception.Message }"
        $r.Text | Should -Match 'schema version 1; this IncidentOps needs 2\. Upgrade it with Initialize-IncidentStore'
        $text = Get-WhatIfText "Initialize-IncidentStore -ConfigPath '$cfg' -WhatIf"
        $text | Should -Match 'Apply schema migration\(s\) 2: alerting state \(version 1 -> 2\)'
        $up = Initialize-IncidentStore -ConfigPath $cfg -Confirm:$false
        $up.PreviousSchemaVersion | Should -Be 1
        $up.SchemaVersion | Should -Be 2
        Invoke-TestPsql "SELECT to_regclass('v1_store.alert_state') IS NOT NULL" $script:db | Should -Be 't'
        (Get-Incident -Id $incident.Id -ConfigPath $cfg).Title | Should -Be 'Before the upgrade'
    }

    It 'shows the store in its default view at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) -Skip:$skipPg {
        $cfg = New-TeamConfig 'team_store' 'alice'
        $text = Get-RenderedView (Initialize-IncidentStore -ConfigPath $cfg) -Width $Width
        $text | Should -Match 'Kind\s+Schema\s+Version\s+Changed\s+Store'
        $text | Should -Match 'Postgres\s+team_store\s+2\s+False\s+postgres://127\.0\.0\.1'
    }

    It 'lets two responders share one record and timeline while each keeps their own active incident' -Skip:$skipPg {
        $alice = New-TeamConfig 'team_store' 'alice'
        $bob = New-TeamConfig 'team_store' 'bob'
        $incident = New-Incident -Title 'Checkout 502' -Severity P1 -ConfigPath $alice
        $incident.Id | Should -Match '^INC-\d{8}-\d{3}$'
        $incident.IncidentStore | Should -Match '^postgres://127\.0\.0\.1:\d+/store_\w+#team_store$'
        Add-IncidentNote -Text 'bob rolled back api' -Incident $incident.Id -ConfigPath $bob | Out-Null
        (Get-IncidentTimeline -Incident $incident.Id -ConfigPath $alice).Result | Should -Contain 'bob rolled back api'
        (Get-Incident -Active -ConfigPath $alice).Id | Should -Be $incident.Id
        Get-Incident -Active -ConfigPath $bob | Should -BeNullOrEmpty
    }

    It 'refuses a store whose schema is newer than it understands, with StoreSchemaTooNew' -Skip:$skipPg {
        $cfg = New-TeamConfig 'future_store' 'carol'
        Initialize-IncidentStore -ConfigPath $cfg -Confirm:$false | Out-Null
        Invoke-TestPsql "INSERT INTO future_store.schema_version (version, name, applied_by) VALUES (99, 'from the future', 'test')" $script:db | Out-Null
        # A fresh process: this one has already checked the schema of this store.
        $r = Invoke-InChildPwsh "try { Get-Incident -ConfigPath '$cfg' -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.Exception.Message }"
        $r.Text | Should -Match 'StoreSchemaTooNew,IncidentOps\.Commands\.GetIncidentCommand'
        $r.Text | Should -Match 'schema version 99, newer than this IncidentOps understands \(version 2\)'
        { Initialize-IncidentStore -ConfigPath $cfg -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'StoreSchemaTooNew,IncidentOps.Commands.InitializeIncidentStoreCommand'
    }

    It 'says StoreNotInitialized, naming the cmdlet to run, before the schema exists' -Skip:$skipPg {
        $cfg = New-TeamConfig 'never_created' 'dave'
        $err = { Get-Incident -ConfigPath $cfg -ErrorAction Stop } | Should -Throw -ErrorId 'StoreNotInitialized,IncidentOps.Commands.GetIncidentCommand' -PassThru
        $err.Exception.Message | Should -Match 'Initialize-IncidentStore'
    }

    It 'fails reads with StoreUnavailable naming host and port, never the password' {
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
        $env:IO_TEST_DOWN_STORE = "Host=127.0.0.1;Port=$port;Username=responder;Password=CANARYst0reP4ss;Database=incidents;Timeout=2"
        try {
            $cfg = New-TeamConfig 'down_store' 'erin' 'env:IO_TEST_DOWN_STORE'
            $err = { Get-Incident -ConfigPath $cfg -ErrorAction Stop } | Should -Throw -ErrorId 'StoreUnavailable,IncidentOps.Commands.GetIncidentCommand' -PassThru
            $err.Exception.Message | Should -Match "127\.0\.0\.1:$port"
            $err.Exception.Message | Should -Not -Match 'CANARY'
            "$($err.TargetObject)" | Should -Not -Match 'CANARY'
        }
        finally { Remove-Item Env:IO_TEST_DOWN_STORE -ErrorAction SilentlyContinue }
    }

    It 'has help that renders, with every parameter described and examples that parse' {
        Assert-CmdletHelp Initialize-IncidentStore | Should -Match 'Initialize-IncidentStore'
    }
}
