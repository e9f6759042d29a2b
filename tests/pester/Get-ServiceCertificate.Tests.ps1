#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Get-ServiceCertificate against a loopback TLS server with a fresh self-signed certificate; no network beyond loopback.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    . (Join-Path $PSScriptRoot 'OpsTestKit.ps1')
    Import-IncidentOps
    $tls = Start-TestTlsServer -DnsName 'pester.test' -Days 20
    $target = "127.0.0.1:$($tls.Port)"
}

AfterAll { Stop-TestServer $tls }

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
