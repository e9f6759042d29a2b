#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-ServiceCertificate against a loopback TLS server with a fresh self-signed certificate; no network beyond loopback.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    Import-IncidentOps
    $tls = Start-TestTlsServer -DnsName 'pester.test' -Days 20
    $target = "127.0.0.1:$($tls.Port)"
}

AfterAll { Stop-TestServer $tls; Remove-TestTemp }

Describe 'Get-ServiceCertificate' {
    It 'reads the leaf certificate: subject, expiry and days remaining' {
        $c = Get-ServiceCertificate $target -ServerName pester.test -ErrorAction Stop
        $c.Subject | Should -Match 'CN=pester\.test'
        $c.NotAfter.UtcDateTime | Should -Be $tls.Certificate.NotAfter.ToUniversalTime()
        $c.DaysRemaining | Should -BeGreaterThan 18
        $c.DaysRemaining | Should -BeLessOrEqual 20
        $c.SubjectAlternativeNames | Should -Contain 'DNS:pester.test'
    }

    It 'says the name matches for -ServerName pester.test and not for another name' {
        (Get-ServiceCertificate $target -ServerName pester.test).HostnameMatches | Should -BeTrue
        (Get-ServiceCertificate $target -ServerName other.test).HostnameMatches | Should -BeFalse
    }

    It 'reports the self-signed chain as a validation error, not as a failure' {
        $c = Get-ServiceCertificate $target -ServerName pester.test -ErrorAction Stop
        ($c.ValidationErrors -join ' ') | Should -Not -BeNullOrEmpty
    }

    It 'accepts an https URL' {
        (Get-ServiceCertificate "https://127.0.0.1:$($tls.Port)/health" -ServerName pester.test).Port | Should -Be $tls.Port
    }
}

# A configured service is read at its https:// health endpoints. Piped from Get-IncidentOpsService it used to bind its
# ssh host (ComputerName) or its empty identity as the TLS target: "'deploy@...' is not host, host:port or an https:// URI",
# or PowerShell's "Cannot validate argument on parameter 'Target'".
Describe 'Get-ServiceCertificate for a configured service' {
    BeforeAll {
        $svcRoot = New-TestRoot @"
environments:
  production:
    services:
      web:
        platform: systemd
        unit: web
        host: deploy@pester-host.invalid
        health:
          - https://127.0.0.1:$($tls.Port)/health
          - https://127.0.0.1:$($tls.Port)/health/ready
          - http://127.0.0.1:9/plain
      plain:
        platform: systemd
        unit: plain
        host: deploy@pester-host.invalid
        health: [ http://127.0.0.1:9/health ]
"@
    }

    It 'reads the certificate of the service''s https:// health endpoints, once per host and port, when the service is piped in' {
        $c = @(Get-IncidentOpsService production/web -ConfigPath $svcRoot.Config | Get-ServiceCertificate -ServerName pester.test -ConfigPath $svcRoot.Config -ErrorAction Stop)
        $c.Count | Should -Be 1 -Because 'both https:// endpoints are on one host and port, and the http:// one has no certificate'
        $c[0].Port | Should -Be $tls.Port
        $c[0].Subject | Should -Match 'CN=pester\.test'
    }

    It 'reads the same with -Service' {
        $c = @(Get-ServiceCertificate -Service production/web -ServerName pester.test -ConfigPath $svcRoot.Config -ErrorAction Stop)
        $c.Count | Should -Be 1
        $c[0].Port | Should -Be $tls.Port
    }

    It 'says HealthEndpointNotConfigured, and how to go on, for a service without an https:// health endpoint' {
        $e = $null
        Get-IncidentOpsService production/plain -ConfigPath $svcRoot.Config | Get-ServiceCertificate -ConfigPath $svcRoot.Config -ErrorVariable e -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -Be 'HealthEndpointNotConfigured,IncidentOps.Commands.GetServiceCertificateCommand'
        $e[0].Exception.Message | Should -Match 'production/plain'
        $e[0].Exception.Message | Should -Match 'Pass the host instead'
        $e[0].Exception.Message | Should -Not -Match 'pester-host' -Because 'the ssh host is no TLS endpoint'
    }

    It 'still binds the Uri of a piped health result' {
        $r = [pscustomobject]@{ Uri = "https://127.0.0.1:$($tls.Port)/health" }   # as HealthResult.Uri
        ($r | Get-ServiceCertificate -ServerName pester.test -ErrorAction Stop).Port | Should -Be $tls.Port
    }
}

Describe 'Get-ServiceCertificate in a real host' {
    It 'renders the certificate facts as a list at <Width> columns' -TestCases @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-RenderedView (Get-ServiceCertificate $target -ServerName pester.test) -Width $Width
        foreach ($row in 'Endpoint', 'Subject', 'Issuer', 'SANs', 'NotAfter', 'DaysRemaining', 'HostnameMatches', 'ValidationErrors') { $text | Should -Match "(?m)^$row\s+:" }
        $text | Should -Match "Endpoint\s+:\s+pester\.test:$($tls.Port)"
    }

    It 'renders help with every parameter described and examples that parse' {
        Assert-CmdletHelp Get-ServiceCertificate | Out-Null
    }
}
