# hoist's installer for PowerShell: dist/install.sh's twin, for Windows
# runners without bash (GitHub-hosted Windows runners have Git Bash, so the
# composite actions use install.sh there too).
#
#   pwsh dist/install.ps1 NAME      prints the path of the verified binary NAME
#
# Same rules as install.sh: HOIST_BIN_DIR wins; otherwise dist/manifest names
# the version, base URL and every asset's SHA-256; the asset for the runner's
# OS and architecture comes from the tool cache when its checksum matches,
# else from BASE/VERSION/ASSET (HOIST_DOWNLOAD_URL overrides BASE; https, or
# http to loopback only), checked and cached; a mismatch is refused and
# nothing is installed; a ref without a manifest (@main) is refused with what
# to do instead. Errors are one `::error::` line on stdout and exit code 1.
# PowerShell 7 (pwsh), as on GitHub's runners.
#Requires -Version 7.0
param([string] $Name = '')

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Set-StrictMode -Version Latest

# Straight to the process's stdout: Fail is also called inside expressions
# whose output is assigned (`$os = switch …`), which would swallow
# Write-Output.
function Fail([string] $message) {
    [Console]::Out.WriteLine("::error title=hoist installer::$message")
    [Console]::Out.Flush()
    exit 1
}

$names = @('bump-manifest', 'ecr-push', 'oidc-assume', 'open-promotion-pr', 'sign', 'wait-for-sync')
if ($names -notcontains $Name) {
    Fail "unknown hoist binary '$Name'%0AHint: name one of $($names -join ', ')"
}

$onWindows = [System.Runtime.InteropServices.RuntimeInformation]::IsOSPlatform([System.Runtime.InteropServices.OSPlatform]::Windows)
$exe = if ($onWindows) { '.exe' } else { '' }

if ($env:HOIST_BIN_DIR) {
    $binary = Join-Path $env:HOIST_BIN_DIR "$Name$exe"
    if (-not (Test-Path -LiteralPath $binary -PathType Leaf)) {
        Fail "HOIST_BIN_DIR is set, but $binary is not an executable%0AHint: point HOIST_BIN_DIR at the directory holding the hoist binaries, or unset it to install the pinned release"
    }
    Write-Output $binary
    exit 0
}

$manifest = Join-Path $PSScriptRoot 'manifest'
if (-not (Test-Path -LiteralPath $manifest -PathType Leaf)) {
    Fail "this ref of hoist has no release manifest (dist/manifest), so there is no pinned binary to install: it is not a release (pinning @main?)%0AHint: pin a release, such as uses: hoist-actions/hoist/actions/$Name@v1 or a release commit's sha, or set HOIST_BIN_DIR to a directory holding the hoist binaries"
}

$version = ''
$base = ''
$checksums = @{}
foreach ($line in Get-Content -LiteralPath $manifest) {
    $fields = $line.Trim() -split '\s+', 2
    if ($fields[0] -eq '' -or $fields[0].StartsWith('#')) { continue }
    $value = if ($fields.Count -gt 1) { $fields[1].Trim() } else { '' }
    switch -regex -casesensitive ($fields[0]) {
        '^version$' { $version = $value; continue }
        '^base-url$' { $base = $value; continue }
        '^[0-9a-f]{64}$' { $checksums[$value] = $fields[0]; continue }
        default { Fail "dist/manifest has a malformed line starting '$($fields[0])'%0AHint: the manifest is written by the release workflow; re-pin a release" }
    }
}
if ($version -notmatch '^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$') {
    Fail "dist/manifest names no version (found '$version')%0AHint: the manifest is written by the release workflow; re-pin a release"
}
if ($env:HOIST_DOWNLOAD_URL) { $base = $env:HOIST_DOWNLOAD_URL }
if (-not $base) { Fail 'dist/manifest names no base-url%0AHint: set HOIST_DOWNLOAD_URL to where the release assets are' }

$os = if ($env:RUNNER_OS) { $env:RUNNER_OS } elseif ($onWindows) { 'Windows' } elseif ($IsMacOS) { 'macOS' } else { 'Linux' }
$arch = if ($env:RUNNER_ARCH) { $env:RUNNER_ARCH } else { [System.Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString() }
$os = switch ($os) {
    { $_ -in 'Linux' } { 'unknown-linux-gnu' }
    { $_ -in 'macOS', 'Darwin' } { 'apple-darwin' }
    { $_ -in 'Windows' } { 'pc-windows-msvc' }
    default { Fail "no hoist build for the OS '$os'%0AHint: hoist is built for Linux, macOS and Windows; set HOIST_BIN_DIR to binaries built for this OS" }
}
$arch = switch ($arch) {
    { $_ -in 'X64', 'x86_64', 'amd64' } { 'x86_64' }
    { $_ -in 'ARM64', 'arm64', 'aarch64' } { 'aarch64' }
    default { Fail "no hoist build for the architecture '$arch'%0AHint: hoist is built for x86_64 and aarch64; set HOIST_BIN_DIR to binaries built for this machine" }
}
$target = "$arch-$os"
$suffix = if ($os -eq 'pc-windows-msvc') { '.exe' } else { '' }
$asset = "$Name-$version-$target$suffix"
$expected = $checksums[$asset]
if (-not $expected) {
    Fail "the $version release has no $asset%0AHint: this OS and architecture are not released; set HOIST_BIN_DIR to binaries built for this machine"
}

function Get-Sha256([string] $path) {
    (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash.ToLowerInvariant()
}

# As install.sh: the runner's tool cache, else the user's cache directory.
$cacheRoot = if ($env:RUNNER_TOOL_CACHE) {
    $env:RUNNER_TOOL_CACHE
} elseif ($env:XDG_CACHE_HOME) {
    $env:XDG_CACHE_HOME
} elseif ($onWindows -and $env:LOCALAPPDATA) {
    $env:LOCALAPPDATA
} else {
    Join-Path $HOME '.cache'
}
$cache = Join-Path (Join-Path (Join-Path $cacheRoot 'hoist') $version) $target
$binary = Join-Path $cache "$Name$suffix"
if ((Test-Path -LiteralPath $binary -PathType Leaf) -and (Get-Sha256 $binary) -eq $expected) {
    Write-Output $binary
    exit 0
}

# Plain HTTP only to loopback; TLS is always verified.
if ($base -notmatch '^https://' -and $base -notmatch '^http://(127\.0\.0\.1|localhost|\[::1\])([:/]|$)') {
    Fail "the download URL '$base' is neither https:// nor loopback http://%0AHint: use an https:// URL in HOIST_DOWNLOAD_URL"
}
New-Item -ItemType Directory -Force -Path $cache | Out-Null
$partial = Join-Path $cache ".$Name.$([System.Guid]::NewGuid().ToString('N'))"
$url = "$($base.TrimEnd('/'))/$version/$asset"
try {
    try {
        # Redirects are followed only to https (as install.sh's --proto-redir).
        $response = Invoke-WebRequest -Uri $url -OutFile $partial -MaximumRedirection 0 -SkipHttpErrorCheck -PassThru
        $hops = 0
        $current = [Uri] $url
        while ($response.StatusCode -ge 300 -and $response.StatusCode -lt 400 -and $hops -lt 5) {
            $location = [string] ($response.Headers['Location'] | Select-Object -First 1)
            $next = [Uri]::new($current, $location)
            if ($next.Scheme -ne 'https') { throw "redirected to '$next', which is not https" }
            $current = $next
            $response = Invoke-WebRequest -Uri $next -OutFile $partial -MaximumRedirection 0 -SkipHttpErrorCheck -PassThru
            $hops++
        }
        if ($response.StatusCode -ne 200) { throw "HTTP $($response.StatusCode)" }
    } catch {
        Fail "could not download ${url}: $($_.Exception.Message -replace '\r?\n', ' ')%0AHint: check the network and HOIST_DOWNLOAD_URL, or set HOIST_BIN_DIR"
    }
    $actual = Get-Sha256 $partial
    if ($actual -ne $expected) {
        Fail "$asset from $url has SHA-256 $actual, but the release manifest says ${expected}: refused, nothing was installed%0AHint: the download was tampered with or corrupted; check HOIST_DOWNLOAD_URL and any proxy in between"
    }
    if (-not $onWindows) { & chmod 755 $partial }
    Move-Item -LiteralPath $partial -Destination $binary -Force
} finally {
    if (Test-Path -LiteralPath $partial) { Remove-Item -LiteralPath $partial -Force }
}
Write-Output $binary
