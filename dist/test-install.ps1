# Tests of dist/install.ps1 against a local release server (Python's
# http.server over a temporary release directory). pwsh does not install
# from a package registry where hoist's own tests run, so CI runs this on a
# Windows runner (.github/workflows/ci.yml, job installer-windows).
#
#   pwsh dist/test-install.ps1
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$version = 'v1.2.3'
$installer = Join-Path $PSScriptRoot 'install.ps1'
$work = Join-Path ([System.IO.Path]::GetTempPath()) "hoist-install-test-$([System.Guid]::NewGuid().ToString('N'))"
$served = Join-Path $work 'served'
$checkout = Join-Path $work 'checkout/dist'
New-Item -ItemType Directory -Force -Path (Join-Path $served $version), $checkout | Out-Null
Copy-Item $installer $checkout

$failures = 0
function Check([string] $what, [bool] $ok, [string] $detail) {
    if ($ok) { Write-Output "ok    $what" } else { Write-Output "FAIL  $what`n      $detail"; $script:failures++ }
}

$targets = @('x86_64-pc-windows-msvc', 'x86_64-unknown-linux-gnu', 'aarch64-apple-darwin')
$manifest = "version $version`nbase-url https://example.invalid/never-used`n"
foreach ($target in $targets) {
    $suffix = if ($target -like '*windows*') { '.exe' } else { '' }
    $asset = "sign-$version-$target$suffix"
    $bytes = [System.Text.Encoding]::UTF8.GetBytes("sign for $target")
    [System.IO.File]::WriteAllBytes((Join-Path (Join-Path $served $version) $asset), $bytes)
    $sum = (Get-FileHash -LiteralPath (Join-Path (Join-Path $served $version) $asset) -Algorithm SHA256).Hash.ToLowerInvariant()
    $manifest += "$sum  $asset`n"
}
Set-Content -LiteralPath (Join-Path $checkout 'manifest') -Value $manifest -NoNewline

$listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
$listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
# `python` first: on Windows, python3 may be the Store's stand-in.
$python = if (Get-Command python -ErrorAction SilentlyContinue) { 'python' } else { 'python3' }
$server = Start-Process -PassThru -NoNewWindow $python -ArgumentList @('-m', 'http.server', $port, '--bind', '127.0.0.1', '--directory', $served)
try {
    $url = "http://127.0.0.1:$port"
    foreach ($i in 1..50) {
        try { Invoke-WebRequest "$url/" -TimeoutSec 1 | Out-Null; break } catch { Start-Sleep -Milliseconds 100 }
    }
    $cache = Join-Path $work 'tool-cache'
    # Runs install.ps1 for `sign` in a child pwsh with the variables of
    # $base, overridden by those of $extra ($null unsets one).
    function Install([hashtable] $extra = @{}) {
        $vars = @{}
        foreach ($key in $base.Keys) { $vars[$key] = $base[$key] }
        foreach ($key in $extra.Keys) { $vars[$key] = $extra[$key] }
        $saved = @{}
        foreach ($key in $vars.Keys) { $saved[$key] = [Environment]::GetEnvironmentVariable($key); [Environment]::SetEnvironmentVariable($key, $vars[$key]) }
        try {
            $out = & pwsh -NoProfile -File (Join-Path $checkout 'install.ps1') sign
            @{ Code = $LASTEXITCODE; Out = ($out -join "`n") }
        } finally {
            foreach ($key in $vars.Keys) { [Environment]::SetEnvironmentVariable($key, $saved[$key]) }
        }
    }
    $base = @{ RUNNER_TOOL_CACHE = $cache; HOIST_DOWNLOAD_URL = $url; HOIST_BIN_DIR = $null; RUNNER_OS = 'Windows'; RUNNER_ARCH = 'X64' }

    foreach ($case in @(@('Windows', 'X64', 'x86_64-pc-windows-msvc', 'sign.exe'), @('Linux', 'X64', 'x86_64-unknown-linux-gnu', 'sign'), @('macOS', 'ARM64', 'aarch64-apple-darwin', 'sign'))) {
        $run = Install @{ RUNNER_OS = $case[0]; RUNNER_ARCH = $case[1] }
        $expected = Join-Path (Join-Path (Join-Path (Join-Path $cache 'hoist') $version) $case[2]) $case[3]
        Check "the $($case[0])/$($case[1]) asset" ($run.Code -eq 0 -and $run.Out -eq $expected -and (Get-Content -Raw $expected) -eq "sign for $($case[2])") "$($run.Code): $($run.Out)"
    }

    $offline = Install @{ HOIST_DOWNLOAD_URL = 'http://127.0.0.1:9/' }
    Check 'a cached binary is used offline' ($offline.Code -eq 0) $offline.Out

    $tampered = Join-Path (Join-Path $served $version) "sign-$version-x86_64-unknown-linux-gnu"
    Set-Content -LiteralPath $tampered -Value 'pwned' -NoNewline
    Remove-Item -Recurse -Force $cache
    $refused = Install @{ RUNNER_OS = 'Linux' }
    $left = @(Get-ChildItem -Force (Join-Path (Join-Path (Join-Path $cache 'hoist') $version) 'x86_64-unknown-linux-gnu'))
    Check 'a tampered download is refused, nothing installed' ($refused.Code -eq 1 -and $refused.Out.StartsWith('::error') -and $refused.Out.Contains('refused, nothing was installed') -and $left.Count -eq 0) "$($refused.Code): $($refused.Out); left: $left"

    $bin = Join-Path $work 'bin'
    New-Item -ItemType Directory -Force -Path $bin | Out-Null
    Set-Content -LiteralPath (Join-Path $bin 'sign.exe') -Value 'local' -NoNewline
    $local = Install @{ HOIST_BIN_DIR = $bin }
    Check 'HOIST_BIN_DIR overrides the release' ($local.Code -eq 0 -and $local.Out -eq (Join-Path $bin 'sign.exe')) "$($local.Code): $($local.Out)"

    Remove-Item -Recurse -Force $cache
    $plain = Install @{ HOIST_DOWNLOAD_URL = 'http://example.com/' }
    Check 'plain http to a non-loopback host is refused' ($plain.Code -eq 1 -and $plain.Out.Contains('neither https:// nor loopback')) $plain.Out

    $unknown = Install @{ RUNNER_ARCH = 's390x' }
    Check 'an unreleased architecture is refused with one error' ($unknown.Code -eq 1 -and $unknown.Out.StartsWith('::error') -and $unknown.Out.Contains("no hoist build for the architecture 's390x'")) $unknown.Out

    Remove-Item -LiteralPath (Join-Path $checkout 'manifest')
    $main = Install
    Check 'a ref without a manifest says how to pin one' ($main.Code -eq 1 -and $main.Out.Contains('no release manifest') -and $main.Out.Contains('HOIST_BIN_DIR')) $main.Out
} finally {
    Stop-Process -Id $server.Id -Force -ErrorAction SilentlyContinue
    Remove-Item -Recurse -Force $work -ErrorAction SilentlyContinue
}
if ($failures -gt 0) { Write-Output "::error title=install.ps1::$failures check(s) failed"; exit 1 }
Write-Output 'install.ps1: every check passed'
