#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# "Nothing hangs": Ctrl+C pressed at a real terminal (the console host on a pseudo-terminal, PSReadLine, SIGINT through
# the tty) stops a command that waits on a server that accepted the connection and never answers, and the prompt comes
# back with no stack trace. Each command's own deadline is 600 s and the test waits at most 60 s for the prompt, so a
# command that ignored Ctrl+C (and ran to its deadline) fails here; how fast it stops is measured nowhere.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Pwsh = Join-Path $PSHOME 'pwsh'
    $script:Driver = Join-Path $PSScriptRoot 'InteractivePwsh.py'
    # A listener that takes connections into its backlog and never reads or answers: the kernel completes the handshake.
    $script:Silent = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $script:Silent.Start()
    $script:Port = $script:Silent.LocalEndpoint.Port
    function Invoke-CtrlC([string] $Command) {
        $lines = & python3 $script:Driver ctrlc $script:Pwsh $script:ModulePath $Command 4
        [pscustomobject]@{ Back = $lines[0] -eq 'prompt back'; Screen = ($lines | Select-Object -Skip 2) -join "`n" }
    }
}
AfterAll { $script:Silent.Stop() }

Describe 'Ctrl+C at a real terminal' {
    It 'stops <Name> waiting on a silent server, and the prompt comes back' -TestCases @(
        @{ Name = 'Test-ServiceHealth'; Command = 'Test-ServiceHealth -Uri http://127.0.0.1:{0}/health -TimeoutSec 600' }
        @{ Name = 'Watch-ServiceHealth'; Command = 'Watch-ServiceHealth -Uri http://127.0.0.1:{0}/health -TimeoutSec 600 -Interval 00:10:00' }
        @{ Name = 'Get-PgActivity'; Command = 'Get-PgActivity -ConnectionString ''Host=127.0.0.1;Port={0};Username=postgres;Database=postgres'' -TimeoutSec 600' }
        @{ Name = 'Stop-IdleConnections'; Command = 'Stop-IdleConnections -ConnectionString ''Host=127.0.0.1;Port={0};Username=postgres;Database=postgres'' -TimeoutSec 600 -Force' }
    ) {
        param($Name, $Command)
        $r = Invoke-CtrlC ($Command -f $script:Port)
        $r.Back | Should -BeTrue -Because "the prompt comes back after Ctrl+C; the screen was:`n$($r.Screen)"
        $r.Screen | Should -Not -Match '(?m)^\s+at [\w.]+\(|Exception:|OperationTimeout|timed out' -Because 'Ctrl+C is not an error or a timeout'
    }
}
