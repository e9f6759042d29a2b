# Shared by the report Pester files (dot-source it after Common.ps1): headless Chromium (Debian's `chromium`, which
# .ci/run installs) renders an HTML file to PNG and dumps its DOM; each call has a deadline and is killed (with its
# child processes) when it passes. The PNG is decoded here (zlib through System.IO.Compression) to count the pixels
# that are not white, and the dumped DOM gives the elements each chart drew, by class.

if (-not ('IncidentOpsTests.ChromiumKit' -as [type])) {
    Add-Type -TypeDefinition @'
using System;
using System.Diagnostics;
using System.IO;
using System.IO.Compression;
using System.Text;

namespace IncidentOpsTests
{
    public static class ChromiumKit
    {
        /// <summary>Runs the program with the arguments; kills it and its children when it has not exited within the timeout.</summary>
        public static string Run(string exe, string[] args, int timeoutMs, out int exitCode, out string stderr)
        {
            var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var err = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(timeoutMs))
            {
                try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                p.WaitForExit(5000);
                throw new TimeoutException($"{exe} did not finish within {timeoutMs / 1000} s and was killed: {string.Join(" ", args)}");
            }
            p.WaitForExit();
            exitCode = p.ExitCode;
            stderr = err.Result;
            return stdout.Result;
        }

        private static int Be32(byte[] b, int i) => (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];

        /// <summary>Decodes an 8-bit, non-interlaced grey/RGB/RGBA PNG and counts the pixels darker than near-white.</summary>
        public static long InkPixels(string path, out int width, out int height)
        {
            var data = File.ReadAllBytes(path);
            if (data.Length < 8 || data[0] != 0x89 || data[1] != (byte)'P' || data[2] != (byte)'N' || data[3] != (byte)'G') throw new InvalidDataException(path + " is not a PNG");
            int pos = 8, bitDepth = 0, colorType = 0, interlace = 0;
            width = height = 0;
            var idat = new MemoryStream();
            while (pos + 8 <= data.Length)
            {
                var len = Be32(data, pos);
                var type = Encoding.ASCII.GetString(data, pos + 4, 4);
                if (type == "IHDR") { width = Be32(data, pos + 8); height = Be32(data, pos + 12); bitDepth = data[pos + 16]; colorType = data[pos + 17]; interlace = data[pos + 20]; }
                else if (type == "IDAT") idat.Write(data, pos + 8, len);
                else if (type == "IEND") break;
                pos += 12 + len;
            }
            if (bitDepth != 8 || interlace != 0) throw new NotSupportedException($"PNG bit depth {bitDepth}, interlace {interlace}");
            var bpp = colorType switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => throw new NotSupportedException($"PNG colour type {colorType}") };
            idat.Position = 0;
            var raw = new MemoryStream();
            using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(raw);
            var bytes = raw.ToArray();
            var stride = width * bpp;
            var prev = new byte[stride];
            var cur = new byte[stride];
            long ink = 0;
            for (var y = 0; y < height; y++)
            {
                var off = y * (stride + 1);
                var filter = bytes[off];
                for (var x = 0; x < stride; x++)
                {
                    var rawByte = bytes[off + 1 + x];
                    int a = x >= bpp ? cur[x - bpp] : 0, b = prev[x], c = x >= bpp ? prev[x - bpp] : 0;
                    cur[x] = filter switch
                    {
                        0 => rawByte,
                        1 => (byte)(rawByte + a),
                        2 => (byte)(rawByte + b),
                        3 => (byte)(rawByte + ((a + b) >> 1)),
                        4 => (byte)(rawByte + Paeth(a, b, c)),
                        _ => throw new InvalidDataException($"PNG filter {filter}"),
                    };
                }
                for (var x = 0; x < width; x++)
                {
                    var i = x * bpp;
                    int min = bpp < 3 ? cur[i] : Math.Min(cur[i], Math.Min(cur[i + 1], cur[i + 2]));
                    var opaque = bpp == 4 ? cur[i + 3] > 0 : bpp != 2 || cur[i + 1] > 0;
                    if (opaque && min < 200) ink++;
                }
                (prev, cur) = (cur, prev);
            }
            return ink;
        }

        private static int Paeth(int a, int b, int c)
        {
            int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
            return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
    }
}
'@
}

# The Chromium binary on PATH, or $null.
function Get-ChromiumPath {
    foreach ($name in 'chromium', 'chromium-browser', 'google-chrome') {
        $cmd = Get-Command $name -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($cmd) { return $cmd.Source }
    }
    $null
}

# True when the test may skip because Chromium is missing; under CI=true nothing skips (Test-SkipWithout's rule) and
# the test fails, saying that chromium is not installed.
function Test-SkipWithoutChromium {
    if ($env:CI -eq 'true') { return $false }
    -not (Get-ChromiumPath)
}

# Runs headless Chromium once with its own throw-away profile; returns its stdout. Throws when it is missing, fails or
# passes $TimeoutSec (it is killed then).
function Invoke-HeadlessChromium([string[]] $Arguments, [int] $TimeoutSec = 90) {
    $exe = Get-ChromiumPath
    if (-not $exe) { throw 'chromium is not installed (apt-get install chromium); the report rendering tests need it.' }
    $profileDir = New-TestTempDir 'io-chromium'
    $common = @('--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--hide-scrollbars', "--user-data-dir=$profileDir")
    try {
        $exit = 0; $stderr = ''
        $stdout = [IncidentOpsTests.ChromiumKit]::Run($exe, [string[]]($common + $Arguments), $TimeoutSec * 1000, [ref] $exit, [ref] $stderr)
        if ($exit -ne 0) { throw "chromium exited with $exit`: $stderr" }
        $stdout
    }
    finally { Remove-TestTempPath $profileDir }
}

# file:///... for a local path ([uri] '/tmp/x' in PowerShell is a relative URI, without AbsoluteUri).
function ConvertTo-FileUri([string] $Path) { [System.Uri]::new([IO.Path]::GetFullPath($Path)).AbsoluteUri }

# Renders the HTML file to a PNG of the given size and returns the DOM as Chromium built it (--dump-dom), in one Chromium
# run (it takes --screenshot and --dump-dom together; a run for each cost a Chromium start per page).
function Save-HtmlScreenshotAndDom([string] $HtmlPath, [string] $PngPath, [int] $Width = 1200, [int] $Height = 3000) {
    $dom = Invoke-HeadlessChromium @("--screenshot=$PngPath", "--window-size=$Width,$Height", '--dump-dom', (ConvertTo-FileUri $HtmlPath))
    if (-not (Test-Path $PngPath)) { throw "chromium wrote no screenshot to $PngPath" }
    $dom
}

# How many elements of the DOM carry the class token (counted on real start tags, never on escaped text).
function Get-DomClassCount([string] $Dom, [string] $Class) {
    @([regex]::Matches($Dom, '<[a-zA-Z][\w:-]*\s[^>]*?\bclass="([^"]*)"') | Where-Object { ($_.Groups[1].Value -split '\s+') -contains $Class }).Count
}

# Pixels of the PNG that are not (near) white, with its size.
function Get-PngInk([string] $PngPath) {
    $w = 0; $h = 0
    $ink = [IncidentOpsTests.ChromiumKit]::InkPixels($PngPath, [ref] $w, [ref] $h)
    [pscustomobject]@{ Ink = $ink; Width = $w; Height = $h }
}

# Keeps a rendered file with the test results (CI keeps artifacts/test-results).
function Save-ChartArtifact([string] $Path) {
    $dir = Join-Path $script:RepoRoot 'artifacts/test-results/charts'
    New-Item -ItemType Directory -Force -Path $dir | Out-Null
    Copy-Item -LiteralPath $Path -Destination $dir -Force
    Join-Path $dir (Split-Path -Leaf $Path)
}
