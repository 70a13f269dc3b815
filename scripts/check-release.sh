#!/usr/bin/env bash
# Checks what goreleaser built into DIST (make release-snapshot, or the
# release job) the way the Terraform Registry and an operator receive it:
#   check-release.sh DIST VERSION [--host]
# - provider zips named terraform-provider-codomyrmex_VERSION_OS_ARCH.zip, each
#   holding terraform-provider-codomyrmex_vVERSION(.exe) and docs only;
# - terraform-provider-codomyrmex_VERSION_SHA256SUMS covering every zip and the
#   manifest, with the right sums; the manifest's protocol_versions are ["6.0"];
# - codomyrmex-agent archives with the binary, LICENSE and CHANGELOG.md;
# - the deb and rpm packages: files, modes, config files, the unit, the user the
#   scripts create; the deb unpacked into a scratch root (dpkg -x), its agent
#   prints VERSION, and `systemd-analyze verify` says nothing about its unit.
# --host expects the host's platform only (make release-snapshot-host); without
# it, every platform of .goreleaser.yml. Needs unzip, sha256sum, jq, dpkg-deb,
# rpm and systemd-analyze, installed from Debian's packages when missing
# (scripts/need-debian-packages.sh).
set -euo pipefail
dist="${1:?usage: check-release.sh DIST VERSION [--host]}"
version="${2:?usage: check-release.sh DIST VERSION [--host]}"
host="${3:-}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$dist"
name=terraform-provider-codomyrmex
failures=0
fail() { echo "check-release: $*" >&2; failures=$((failures + 1)); }
"$repo/scripts/need-debian-packages.sh" unzip:unzip sha256sum:coreutils jq:jq dpkg-deb:dpkg rpm:rpm systemd-analyze:systemd

if [[ "$host" == --host ]]; then
  provider_platforms=("$(go env GOOS)_$(go env GOARCH)")
  agent_platforms=("${provider_platforms[@]}")
else
  provider_platforms=(darwin_amd64 darwin_arm64 freebsd_386 freebsd_amd64 freebsd_arm freebsd_arm64
    linux_386 linux_amd64 linux_arm linux_arm64 windows_386 windows_amd64 windows_arm64)
  agent_platforms=(darwin_amd64 darwin_arm64 freebsd_amd64 freebsd_arm freebsd_arm64 linux_amd64 linux_arm linux_arm64)
fi

# The provider, as the Registry reads it.
sums="${name}_${version}_SHA256SUMS"
manifest="${name}_${version}_manifest.json"
[[ -f "$sums" ]] || fail "no $sums"
# goreleaser uploads the manifest (release.extra_files) at publish time only:
# a snapshot has its sum, not the file.
[[ -f "$manifest" ]] || cp "$repo/terraform-registry-manifest.json" "$manifest"
zips=("${name}_${version}"_*.zip)
[[ ${#zips[@]} -eq ${#provider_platforms[@]} ]] || fail "${#zips[@]} provider zips, want ${#provider_platforms[@]}: ${zips[*]}"
for p in "${provider_platforms[@]}"; do
  zip="${name}_${version}_${p}.zip"
  bin="${name}_v${version}"
  [[ "$p" == windows_* ]] && bin="$bin.exe"
  if [[ ! -f "$zip" ]]; then fail "no $zip"; continue; fi
  # The binary, and no other provider binary (goreleaser adds LICENSE, README.md, CHANGELOG.md).
  got="$(unzip -Z1 "$zip" | grep -v -x -e LICENSE -e README.md -e CHANGELOG.md || true)"
  [[ "$got" == "$bin" ]] || fail "$zip holds [$got] besides the docs, want [$bin]"
  grep -qE "^[0-9a-f]{64}  $zip\$" "$sums" || fail "$sums does not cover $zip"
done
grep -qE "^[0-9a-f]{64}  $manifest\$" "$sums" || fail "$sums does not cover $manifest"
sha256sum --quiet --strict -c "$sums" || fail "$sums: a sum does not match"
[[ "$(jq -c .metadata.protocol_versions "$manifest")" == '["6.0"]' ]] || fail "$manifest: protocol_versions $(jq -c .metadata.protocol_versions "$manifest"), want [\"6.0\"]"

# The agent's archives.
for p in "${agent_platforms[@]}"; do
  tgz="codomyrmex-agent_${version}_${p}.tar.gz"
  if [[ ! -f "$tgz" ]]; then fail "no $tgz"; continue; fi
  got="$(tar -tzf "$tgz" | sort | tr '\n' ' ')"
  [[ "$got" == "CHANGELOG.md LICENSE codomyrmex-agent " ]] || fail "$tgz holds [$got], want codomyrmex-agent, LICENSE, CHANGELOG.md"
done

# The packages of the agent: one deb and one rpm per Linux platform.
for p in "${agent_platforms[@]}"; do
  [[ "$p" == linux_* ]] || continue
  deb="codomyrmex-agent_${version}_${p}.deb"
  rpmf="codomyrmex-agent_${version}_${p}.rpm"
  for f in "$deb" "$rpmf"; do [[ -f "$f" ]] || fail "no $f"; done
  [[ -f "$deb" && -f "$rpmf" ]] || continue
  # Files and modes: "MODE PATH" of every file, as each package lists it.
  deb_files="$(dpkg-deb -c "$deb" | awk '{print $1, $6}' | sed -e 's#^\(.\{10\}\) \./#\1 /#' -e 's#/$##')"
  rpm_files="$(rpm -qp --queryformat '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpmf" 2>/dev/null)"
  for want in "-rwxr-xr-x /usr/bin/codomyrmex-agent" "-rw-r--r-- /usr/lib/systemd/system/codomyrmex-agent@.service" \
    "-rw-r--r-- /etc/codomyrmex/serve.env" "-rw-r--r-- /etc/codomyrmex/router.env" "-rw-r--r-- /etc/codomyrmex/flags.env" \
    "drwxr-x--- /etc/codomyrmex"; do
    grep -qxF -- "$want" <<<"$deb_files" || fail "$deb lacks $want:"$'\n'"$deb_files"
    grep -qxF -- "$want" <<<"$rpm_files" || fail "$rpmf lacks $want:"$'\n'"$rpm_files"
  done
  conffiles="$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)"
  rpm_config="$(rpm -qp --configfiles "$rpmf" 2>/dev/null)"
  for env in serve router flags; do
    grep -qxF "/etc/codomyrmex/$env.env" <<<"$conffiles" || fail "$deb does not mark /etc/codomyrmex/$env.env as configuration"
    grep -qxF "/etc/codomyrmex/$env.env" <<<"$rpm_config" || fail "$rpmf does not mark /etc/codomyrmex/$env.env as configuration"
  done
  # The user, and the token file owned by it with mode 0600.
  grep -q 'useradd --system' <(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./preinst) || fail "$deb: preinst creates no system user"
  grep -q 'useradd --system' <(rpm -qp --scripts "$rpmf" 2>/dev/null) || fail "$rpmf: its scripts create no system user"
  grep -q 'install -m 0600 -o codomyrmex -g codomyrmex /dev/null /etc/codomyrmex/token' <(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst) ||
    fail "$deb: postinst does not create the token file with mode 0600"
done

# The host's deb, unpacked into a scratch root: the agent runs and says its
# version, and systemd accepts its unit.
if [[ "$(go env GOOS)" == linux ]]; then
  deb="codomyrmex-agent_${version}_linux_$(go env GOARCH).deb"
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' EXIT
  if [[ -f "$deb" ]]; then
    dpkg -x "$deb" "$root"
    got="$("$root/usr/bin/codomyrmex-agent" --version)"
    [[ "$got" == "codomyrmex-agent $version" ]] || fail "the packaged agent says [$got], want [codomyrmex-agent $version]"
    # verify checks that ExecStart's binary exists: point it at the unpacked one.
    mkdir -p "$root/verify"
    sed "s#/usr/bin/codomyrmex-agent#$root/usr/bin/codomyrmex-agent#" "$root/usr/lib/systemd/system/codomyrmex-agent@.service" \
      >"$root/verify/codomyrmex-agent@serve.service"
    out="$(systemd-analyze verify --man=no "$root/verify/codomyrmex-agent@serve.service" 2>&1)" || fail "systemd-analyze verify failed: $out"
    [[ -z "$out" ]] || fail "systemd-analyze verify says: $out"
  fi
fi

if ((failures > 0)); then
  echo "check-release: $failures failure(s) in $dist" >&2
  exit 1
fi
echo "check-release: $dist holds release $version as the Registry and an operator expect"
