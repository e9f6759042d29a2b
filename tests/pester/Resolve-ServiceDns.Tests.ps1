#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Pester 5. Starts dnsmasq (Debian: dnsmasq-base) on a loopback port, authoritative for svc.test; loopback only.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    . (Join-Path $PSScriptRoot 'StandInKit.ps1')   # Start-StandInDnsmasq
    Import-IncidentOps
    # dnsmasq on a free UDP port, tried again on a fresh port when another process took the probed one first (StandInKit.ps1).
    $dns = Start-StandInDnsmasq @(
        '--keep-in-foreground', '--conf-file=/dev/null', '--listen-address=127.0.0.1', '--bind-interfaces',
        '--no-resolv', '--no-hosts', '--pid-file=', "--user=$([Environment]::UserName)",
        '--auth-zone=svc.test,127.0.0.0/8,fd00::/64', '--auth-server=ns1.svc.test,127.0.0.1', '--auth-sec-servers=ns2.svc.test', '--auth-ttl=1234',
        '--host-record=ns1.svc.test,127.0.0.1', '--host-record=svc.test,127.0.0.5,fd00::5', '--cname=www.svc.test,svc.test',
        '--txt-record=svc.test,hello', '--mx-host=svc.test,mail.svc.test,10'
    )
    $script:port = $dns.Port
    $script:server = "127.0.0.1:$port"
    $script:process = $dns.Process
}

AfterAll {
    if ($script:process -and -not $script:process.HasExited) { $script:process.Kill() }
    Remove-TestTemp
}

Describe 'Resolve-ServiceDns' {
    It 'answers <Type> for <Name> with <Value> and the zone TTL' -TestCases @(
        @{ Name = 'svc.test'; Type = 'A'; Value = '127.0.0.5' }
        @{ Name = 'svc.test'; Type = 'AAAA'; Value = 'fd00::5' }
        @{ Name = 'www.svc.test'; Type = 'CNAME'; Value = 'svc.test' }
        @{ Name = 'svc.test'; Type = 'MX'; Value = 'mail.svc.test' }
        @{ Name = 'svc.test'; Type = 'TXT'; Value = 'hello' }
    ) {
        $r = Resolve-ServiceDns $Name -Type $Type -Server $server
        $r.Status | Should -Be 'NoError'
        $answer = @($r.Answers | Where-Object Type -eq $Type)[0]
        $answer.Value | Should -Be $Value
        $answer.Ttl | Should -BeLessOrEqual 1234   # dnsmasq ages it from 1234 like a cache
        $answer.Ttl | Should -BeGreaterThan 900
    }

    It 'lists both name servers for NS' {
        $r = Resolve-ServiceDns svc.test -Type NS -Server $server
        (@($r.Answers.Value | Sort-Object) -join ',') | Should -Be 'ns1.svc.test,ns2.svc.test'
    }

    It 'reports a missing name as NXDomain, not an error' {
        $r = Resolve-ServiceDns nope.svc.test -Type A -Server $server -ErrorAction Stop
        $r.Status | Should -Be 'NXDomain'
        @($r.Answers).Count | Should -Be 0
    }

    It 'says in its own words that nothing answered on a closed port, without the DNS library''s query id' {
        # It used to pass DnsClient's text on: "failed: Query 35483 => svc.test IN A on 127.0.0.1:N timed out or is a transient error.. Check ..."
        $e = $null
        Resolve-ServiceDns svc.test -Type A -Server "127.0.0.1:$(Get-FreeUdpPort)" -TimeoutSec 2 -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -Be 'DnsQueryFailed,IncidentOps.Commands.ResolveServiceDnsCommand'
        $e[0].Exception.Message | Should -Match 'failed: no answer'
        $e[0].Exception.Message | Should -Not -Match 'Query \d+ =>'
        $e[0].Exception.Message | Should -Not -Match '\.\.'
    }

    It 'rejects a bad server with DnsServerInvalid' {
        { Resolve-ServiceDns svc.test -Server '127.0.0.1:notaport' -ErrorAction Stop } | Should -Throw -ErrorId 'DnsServerInvalid,IncidentOps.Commands.ResolveServiceDnsCommand'
    }
}

# A configured service is looked up by the host names of its health endpoints and baseUrl. Piped from
# Get-IncidentOpsService it used to bind the service's own name: "'production/web' is not a host name or URI".
Describe 'Resolve-ServiceDns for a configured service' {
    BeforeAll {
        $svcRoot = New-TestRoot @"
environments:
  production:
    services:
      web:
        platform: systemd
        unit: web
        host: deploy@pester-host.invalid
        baseUrl: http://www.svc.test
        health:
          - https://svc.test:8443/health
          - https://svc.test/health/ready
          - http://127.0.0.1:9/plain
      bare:
        platform: systemd
        unit: bare
        health: [ http://127.0.0.1:9/health ]
"@
    }

    It 'looks up the hosts of the service''s health endpoints and baseUrl, each once, when the service is piped in' {
        $r = @(Get-IncidentOpsService production/web -ConfigPath $svcRoot.Config | Resolve-ServiceDns -Type A -Server $server -ConfigPath $svcRoot.Config -ErrorAction Stop)
        $r.Name | Should -Be @('svc.test', 'www.svc.test') -Because 'each host once, IP addresses and the ssh host left out'
        $r[0].Answers.Value | Should -Contain '127.0.0.5'
    }

    It 'looks up the same with -Service' {
        (Resolve-ServiceDns -Service production/web -Type A -Server $server -ConfigPath $svcRoot.Config -ErrorAction Stop).Name | Should -Be @('svc.test', 'www.svc.test')
    }

    It 'says HealthEndpointNotConfigured, and how to go on, for a service that names no host' {
        $e = $null
        Resolve-ServiceDns -Service production/bare -Server $server -ConfigPath $svcRoot.Config -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -Be 'HealthEndpointNotConfigured,IncidentOps.Commands.ResolveServiceDnsCommand'
        $e[0].Exception.Message | Should -Match 'Pass the name instead'
    }
}

Describe 'Resolve-ServiceDns in a real host' {
    It 'keeps the answers on screen at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $rows = @(Resolve-ServiceDns svc.test -Type A -Server $server; Resolve-ServiceDns svc.test -Type MX -Server $server; Resolve-ServiceDns nope.svc.test -Server $server)
        $text = Get-RenderedView $rows -Width $Width
        foreach ($col in 'Name', 'Type', 'Status', 'Ms', 'Answers') { $text | Should -Match "\b$col\b" }
        $answers = Get-ViewColumn $text 'Answers'
        $answers | Should -Match '127\.0\.0\.5'
        $answers | Should -Match 'mail\.svc\.test'
        $text | Should -Match 'NXDomain'
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Resolve-ServiceDns | Should -Match 'Default value\s+A, AAAA'
    }

    It 'completes -Type with the record types' {
        Get-CompletionText 'Resolve-ServiceDns svc.test -Type MX' | Should -Contain 'MX'
    }
}
