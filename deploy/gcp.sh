#!/usr/bin/env bash
# Creates the seed's setup on Google Cloud: an e2-micro Debian 12 VM in us-central1
# running ssh-chatroom as a systemd service, and a firewall rule for TCP 9999.
# Run from anywhere inside the repository; see --help.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

project=""
zone="us-central1-a"
name="ssh-chatroom"
source_range="0.0.0.0/0"
binary_url=""
dry_run=0

usage() {
  cat <<EOF
Usage: deploy/gcp.sh [options]

Creates a VM (e2-micro, Debian 12 from debian-cloud/debian-12, tag NAME) whose
startup script installs ssh-chatroom with deploy/ssh-chatroom.service,
deploy/logrotate and deploy/ssh-chatroom.toml, and a firewall rule NAME-tcp-9999
letting TCP 9999 in to VMs tagged NAME.

  --project ID         Google Cloud project (default: gcloud's configured project)
  --zone ZONE          zone (default: $zone)
  --name NAME          VM name, network tag and firewall-rule prefix (default: $name)
  --source-range CIDR  who may connect to TCP 9999; comma-separated list allowed
                       (default: $source_range, everyone)
  --binary-url URL     the VM downloads this Linux x86_64 binary (built on Debian 12
                       or older glibc). Without it the VM builds the committed
                       state of this repository (git archive HEAD, without
                       tests, docs and deploy/) with cargo:
                       about 20-30 minutes on an e2-micro.
  --dry-run            print every gcloud command instead of running it
  -h, --help           this text

Needs gcloud (authenticated, Compute Engine API enabled) and, without --binary-url, git.
EOF
}

die() {
  echo "gcp.sh: $*" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --project) project=${2:?--project needs a value}; shift 2 ;;
    --project=*) project=${1#*=}; shift ;;
    --zone) zone=${2:?--zone needs a value}; shift 2 ;;
    --zone=*) zone=${1#*=}; shift ;;
    --name) name=${2:?--name needs a value}; shift 2 ;;
    --name=*) name=${1#*=}; shift ;;
    --source-range) source_range=${2:?--source-range needs a value}; shift 2 ;;
    --source-range=*) source_range=${1#*=}; shift ;;
    --binary-url) binary_url=${2:?--binary-url needs a value}; shift 2 ;;
    --binary-url=*) binary_url=${1#*=}; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ $name =~ ^[a-z]([-a-z0-9]{0,50}[a-z0-9])?$ ]] \
  || die "--name must be lowercase letters, digits and '-', starting with a letter"
cidr='[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}|[0-9a-fA-F:]+/[0-9]{1,3}'
[[ $source_range =~ ^($cidr)(,($cidr))*$ ]] \
  || die "--source-range must be CIDR ranges such as 203.0.113.0/24, comma-separated"
[[ -z $binary_url || $binary_url =~ ^https?:// ]] \
  || die "--binary-url must be an http(s) URL"
[ -f "$repo/deploy/ssh-chatroom.service" ] || die "missing $repo/deploy/ssh-chatroom.service"

rule="$name-tcp-9999"
gflags=()
[ -n "$project" ] && gflags+=(--project "$project")

# Prints one shell word, single-quoted if it needs quoting.
quote() {
  if [[ $1 =~ ^[-A-Za-z0-9_@%+=:,./]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# Runs a gcloud command, or only prints it with --dry-run.
gc() {
  if [ "$dry_run" = 1 ]; then
    printf 'gcloud'
    for arg in "$@"; do
      printf ' '
      quote "$arg"
    done
    printf '\n'
  else
    gcloud "$@"
  fi
}

# The instance metadata, one file per key (files, so no value needs escaping).
meta=$(mktemp -d)
if [ "$dry_run" = 1 ]; then
  echo "# dry run: the metadata files are kept in $meta for inspection"
else
  trap 'rm -rf "$meta"' EXIT
fi
cp "$repo/deploy/gcp-startup.sh" "$meta/startup-script"
cp "$repo/deploy/ssh-chatroom.service" "$meta/ssh-chatroom-unit"
cp "$repo/deploy/logrotate" "$meta/ssh-chatroom-logrotate"
metadata="startup-script=$meta/startup-script,ssh-chatroom-unit=$meta/ssh-chatroom-unit"
metadata+=",ssh-chatroom-logrotate=$meta/ssh-chatroom-logrotate"
if [ -f "$repo/deploy/ssh-chatroom.toml" ]; then
  cp "$repo/deploy/ssh-chatroom.toml" "$meta/ssh-chatroom-config"
  metadata+=",ssh-chatroom-config=$meta/ssh-chatroom-config"
else
  echo "gcp.sh: warning: no deploy/ssh-chatroom.toml, the VM gets no config file" >&2
fi
if [ -n "$binary_url" ]; then
  printf '%s' "$binary_url" >"$meta/ssh-chatroom-binary-url"
  metadata+=",ssh-chatroom-binary-url=$meta/ssh-chatroom-binary-url"
else
  # What the build needs: tests (the unit tests' own files too: a release build never
  # reads a `#[cfg(test)]` module), docs, scripts and deploy/ stay out, and of the other
  # workspace members (bench, testkit) only what cargo reads to load the workspace (their
  # manifests and entry files). One metadata value may hold 256 KB: xz, not gzip (a fifth
  # smaller).
  members=()
  while read -r file; do members+=(":(exclude)$file"); done < <(
    git -C "$repo" ls-files bench/src testkit/src \
      | grep -vx -e bench/src/main.rs -e testkit/src/lib.rs
  )
  git -C "$repo" archive --format=tar HEAD -- . ':(exclude)tests' ':(exclude)deploy' \
    ':(exclude)*.md' ':(exclude)bench/tests' ':(exclude)scripts' \
    ':(exclude,glob)src/**/*tests.rs' "${members[@]}" \
    | xz -9e | base64 -w0 >"$meta/ssh-chatroom-source"
  size=$(wc -c <"$meta/ssh-chatroom-source")
  [ "$size" -le 256000 ] || die "source archive is $size bytes, over the metadata limit; use --binary-url"
  metadata+=",ssh-chatroom-source=$meta/ssh-chatroom-source"
  if [ -n "$(git -C "$repo" status --porcelain)" ]; then
    echo "gcp.sh: warning: uncommitted changes are not deployed (git archive HEAD)" >&2
  fi
fi

# Firewall: create the rule, or narrow/widen an existing one to --source-range.
if [ "$dry_run" = 0 ] && gcloud compute firewall-rules describe "$rule" "${gflags[@]}" >/dev/null 2>&1; then
  gc compute firewall-rules update "$rule" "${gflags[@]}" --source-ranges "$source_range"
else
  gc compute firewall-rules create "$rule" "${gflags[@]}" \
    --network default --direction INGRESS --action allow --rules tcp:9999 \
    --source-ranges "$source_range" --target-tags "$name" \
    --description "ssh-chatroom: SSH chat on TCP 9999"
fi

gc compute instances create "$name" "${gflags[@]}" \
  --zone "$zone" \
  --machine-type e2-micro \
  --image-family debian-12 --image-project debian-cloud \
  --boot-disk-size 10GB --boot-disk-type pd-standard \
  --shielded-secure-boot --shielded-vtpm --shielded-integrity-monitoring \
  --tags "$name" \
  --metadata-from-file "$metadata"

gc compute instances describe "$name" "${gflags[@]}" --zone "$zone" \
  --format 'get(networkInterfaces[0].accessConfigs[0].natIP)'

cat <<EOF

Next:
  follow the install:  gcloud compute instances get-serial-port-output $name --zone $zone${project:+ --project $project}
  host key fingerprint (compare with what ssh shows on first connect):
                       gcloud compute ssh $name --zone $zone${project:+ --project $project} -- sudo journalctl -u ssh-chatroom -g fingerprint
  join:                ssh -p 9999 alice@EXTERNAL_IP  (the address printed above)
EOF
