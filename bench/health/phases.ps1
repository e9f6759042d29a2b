# Per-phase means over $n sequential fresh-connection probes of $uri (ms): dns connect tls ttfb total
$n = [int]$n
$uris = [string[]]::new($n); for ($i = 0; $i -lt $n; $i++) { $uris[$i] = $uri }
$null = Test-ServiceHealth $uri -SkipCertificateCheck   # warm-up
$r = @(Test-ServiceHealth $uris -SkipCertificateCheck -ThrottleLimit 1)
$d = 0.0; $c = 0.0; $t = 0.0; $f = 0.0; $tot = 0.0
foreach ($x in $r) { $d += $x.DnsMs; $c += $x.ConnectMs; $t += $x.TlsMs; $f += $x.TimeToFirstByteMs; $tot += $x.TotalMs }
'{0:F3} {1:F3} {2:F3} {3:F3} {4:F3}' -f ($d / $n), ($c / $n), ($t / $n), ($f / $n), ($tot / $n)
